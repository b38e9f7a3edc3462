"""A sync follows the failure rule of file ingest: it stores through the same steps.

A message the store refuses is one failure (raw kept) and the folder goes on; a store
that cannot even record that failure stops the sync with one error, and the batch
(cursor included) is not committed. tests/cli/test_facade.py checks the same for files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from mailatlas_clean import parse_bytes
from mailatlas_core import StorageFullError, Store, StoreError, open_store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer

from .conftest import Mailbox, message

pytestmark = pytest.mark.dovecot


def _plant_directory(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()


def _served(mailbox: Mailbox, raw: bytes, tmp_path: Path) -> bytes:
    """The bytes the server serves for ``raw`` (blobs are named by their hash)."""
    scratch = open_store(tmp_path / "scratch.db", tmp_path / "scratch")
    try:
        sync_imap(scratch, mailbox.config())
        return Path(scratch.get_document(parse_bytes(raw).id).raw_path).read_bytes()
    finally:
        scratch.close()


def test_a_message_the_store_refuses_fails_alone(
    dovecot: DovecotServer, mailbox: Mailbox, sqlite_store: Store, store_dir: Path, tmp_path: Path
) -> None:
    mail = [message(i, tag="refused") for i in range(3)]
    dovecot.fill_maildir(mailbox.user, "INBOX", mail)
    served = _served(mailbox, mail[1], tmp_path)
    _plant_directory(store_dir / "workspace" / "raw" / f"{hashlib.sha256(served).hexdigest()}.eml")

    result = sync_imap(sqlite_store, mailbox.config())

    (folder,) = result.folders
    assert (folder.status, folder.ingested_count, folder.failed_count) == ("partial", 2, 1)
    assert folder.last_uid == 3  # the cursor moved past it
    (failure,) = sqlite_store.list_failures()
    assert "cannot write" in failure.error and failure.source.endswith(";uid=2")
    kept = [p.read_bytes() for p in (store_dir / "workspace" / "failures").iterdir()]
    assert len(kept) == 1 and b"Message refused 1" in kept[0]


def test_a_store_that_cannot_record_the_failure_stops_the_sync(
    dovecot: DovecotServer, mailbox: Mailbox, sqlite_store: Store, store_dir: Path, tmp_path: Path
) -> None:
    mail = [message(i, tag="stuck") for i in range(3)]
    dovecot.fill_maildir(mailbox.user, "INBOX", mail)
    raw_hash = hashlib.sha256(_served(mailbox, mail[1], tmp_path)).hexdigest()
    _plant_directory(store_dir / "workspace" / "raw" / f"{raw_hash}.eml")
    _plant_directory(store_dir / "workspace" / "failures" / f"{raw_hash}.eml")

    with pytest.raises(StoreError, match=r"cannot write .*failures") as stopped:
        sync_imap(sqlite_store, mailbox.config())

    assert not isinstance(stopped.value, StorageFullError)
    assert sqlite_store.count_documents() == 0  # the batch was rolled back
    port = mailbox.server.imaps_port
    assert sqlite_store.get_cursor("127.0.0.1", port, mailbox.user, "INBOX") is None
