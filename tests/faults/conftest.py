"""The real-Dovecot fixtures of ``tests/integration`` (marker ``dovecot``), shared here."""

from tests.integration.conftest import dovecot, mailbox, own_dovecot, store, store_dir, store_spec

__all__ = ["dovecot", "mailbox", "own_dovecot", "store", "store_dir", "store_spec"]
