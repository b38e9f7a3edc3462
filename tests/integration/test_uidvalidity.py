"""UIDVALIDITY changes: reset the cursor, rescan, recognise stored mail without bodies."""

from __future__ import annotations

import pytest
from mailatlas_core import Store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer

from .conftest import Mailbox, message, messages

pytestmark = pytest.mark.dovecot


def test_uidvalidity_reset_recognises_stored_messages(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(15, tag="uv"))
    config = mailbox.config(batch_size=4)
    first = sync_imap(store, config).to_dict()["folders"][0]
    assert first["ingested_count"] == 15

    dovecot.set_uidvalidity(mailbox.user, "INBOX", 4242)
    out = sync_imap(store, config).to_dict()
    folder = out["folders"][0]

    assert folder["uidvalidity"] == "4242" and folder["uidvalidity_reset"] is True
    assert (folder["ingested_count"], folder["duplicate_count"]) == (0, 15)
    assert folder["downloaded_count"] == 0  # recognised by Message-ID, bodies not fetched
    assert folder["document_refs"] == [] and folder["last_uid"] == 15
    assert store.count_documents() == 15
    cursor = store.get_cursor("127.0.0.1", config.port, mailbox.user, "INBOX")
    assert cursor is not None and (cursor.uidvalidity, cursor.last_uid) == (4242, 15)
    doc = store.get_document(first["document_refs"][0]["id"])
    assert sorted(str(loc.detail.get("uidvalidity")) for loc in doc.locations) == sorted(
        [first["uidvalidity"], "4242"]
    )

    assert sync_imap(store, config).to_dict()["folders"][0]["unchanged"] is True


def test_uidvalidity_reset_downloads_only_what_is_new(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(5, tag="uvn"))
    nomid = message(77, tag="uvn", mid=False)
    dovecot.fill_maildir(mailbox.user, "INBOX", [nomid])
    sync_imap(store, mailbox.config())

    dovecot.set_uidvalidity(mailbox.user, "INBOX", 999)
    dovecot.append(mailbox.user, "INBOX", [message(5, tag="uvn")], password=mailbox.password)
    folder = sync_imap(store, mailbox.config()).to_dict()["folders"][0]

    assert (folder["ingested_count"], folder["duplicate_count"]) == (1, 6)
    # The new message and the one without a Message-ID (recognised by its hash instead).
    assert folder["downloaded_count"] == 2
    assert store.count_documents() == 7
