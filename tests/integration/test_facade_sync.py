"""``MailAtlas.sync_imap`` returns a result whatever the server does (docs/python-api.md)."""

from __future__ import annotations

import pytest
from mailatlas_clean import ParserConfig
from mailatlas_cli import MailAtlas
from mailatlas_imap import ImapAuthError, sync_imap

from devkit.dovecot import free_port
from tests.backends import StoreSpec, sqlite_only

from .conftest import Mailbox, message, messages

pytestmark = pytest.mark.dovecot


@sqlite_only  # IMAP transport, not the store
def test_a_refused_login_is_a_result_with_status_error(
    mailbox: Mailbox, store_spec: StoreSpec
) -> None:
    config = mailbox.config(password="not-the-password", folders=("INBOX", "Archive"))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        result = atlas.sync_imap(config)
        assert result.status == "error"
        assert [(f.folder, f.status) for f in result.folders] == [
            ("INBOX", "error"),
            ("Archive", "error"),
        ]
        assert result.to_dict()["error_count"] == 2
        # The lower-level function raises, as documented; the result carries its words.
        with pytest.raises(ImapAuthError) as caught:
            sync_imap(atlas.store(), config)
    assert all(f.error == str(caught.value) for f in result.folders), result


@sqlite_only  # IMAP transport, not the store
def test_an_unreachable_server_is_a_result_with_status_error(
    mailbox: Mailbox, store_spec: StoreSpec
) -> None:
    config = mailbox.config(port=free_port(), max_retries=0)  # nothing listens there
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        result = atlas.sync_imap(config)
    assert result.status == "error"
    assert result.folders[0].error, result


def test_a_good_sync_returns_its_documents(mailbox: Mailbox, store_spec: StoreSpec) -> None:
    mailbox.server.fill_maildir(mailbox.user, "INBOX", messages(3, tag="facade"))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        result = atlas.sync_imap(mailbox.config())
        again = atlas.sync_imap(mailbox.config())
    assert (result.status, result.ingested_count, len(result.document_refs)) == ("ok", 3, 3)
    assert (again.status, again.fetched_count) == ("ok", 0)


def test_the_facades_cleaning_flags_apply_to_a_sync(
    mailbox: Mailbox, store_spec: StoreSpec
) -> None:
    # The facade's flags used to be ignored: ImapSyncConfig always carried its own
    # default ParserConfig, so the sync cleaned with the defaults.
    body = "Zero\u200bwidth stays.\nSecond line."
    mailbox.server.fill_maildir(mailbox.user, "INBOX", [message(1, tag="flags", body=body)])
    keep = ParserConfig(strip_invisible_chars=False)
    with MailAtlas(store_spec.db, store_spec.workspace, keep) as atlas:
        result = atlas.sync_imap(mailbox.config())
        (ref,) = result.document_refs
        assert "\u200b" in atlas.get_document(ref.id).body_text
    # A config that names its own flags wins over the facade's.
    other = mailbox.config(folders=("INBOX",), parser_config=ParserConfig())
    mailbox.server.fill_maildir(mailbox.user, "INBOX", [message(2, tag="flags", body=body)])
    with MailAtlas(store_spec.db, store_spec.workspace, keep) as atlas:
        (ref,) = atlas.sync_imap(other).document_refs
        assert "\u200b" not in atlas.get_document(ref.id).body_text
