"""A forged Message-ID on a real Dovecot: the probe must not skip the real message."""

from __future__ import annotations

import pytest
from mailatlas_core import Store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer
from tests.backends import read_located

from .conftest import Mailbox, message

pytestmark = pytest.mark.dovecot

FORGED = message(1, tag="fake", body="Send the money to Mallory.").replace(
    b"<fake.1@example.com>", b"<report.1@example.com>"
)
REAL = message(1, tag="report", body="Revenue grew in every region.")


def test_a_message_whose_message_id_was_forged_first_is_downloaded_and_stored(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
) -> None:
    assert FORGED != REAL and b"<report.1@example.com>" in FORGED
    dovecot.fill_maildir(mailbox.user, "INBOX", [FORGED])
    inbox = sync_imap(store, mailbox.config()).to_dict()["folders"][0]
    assert inbox["ingested_count"] == 1
    forged_id = inbox["document_refs"][0]["id"]

    # A new folder over a non-empty store: the Message-ID probe runs. It holds the real
    # message, an exact copy of the forged one, and a copy of it with one more header.
    relayed = b"X-Relayed: yes\r\n" + FORGED
    dovecot.fill_maildir(mailbox.user, "Archive", [REAL, FORGED, relayed])
    out = sync_imap(store, mailbox.config(folders=("Archive",))).to_dict()
    archive = out["folders"][0]
    assert (archive["ingested_count"], archive["duplicate_count"]) == (1, 2)
    # The real message and the relayed copy (other size) are downloaded; the exact copy
    # of a stored message is recognised from its headers and size alone.
    assert archive["downloaded_count"] == 2
    real_id = archive["document_refs"][0]["id"]
    assert real_id != forged_id and store.count_documents() == 2

    real = store.get_document(real_id)
    assert real.message_id == "report.1@example.com"
    assert "Revenue grew in every region." in real.body_text
    assert read_located(real.raw_path).replace(b"\r\n", b"\n") == REAL.replace(b"\r\n", b"\n")
    assert real.metadata["message_id_conflict"]["documents"] == [forged_id]
    assert [(loc.detail["folder"], loc.detail["uid"]) for loc in real.locations] == [("Archive", 1)]
    forged = store.get_document(forged_id)
    assert forged.metadata["message_id_conflict"]["documents"] == [real_id]
    assert sorted((loc.detail["folder"], loc.detail["uid"]) for loc in forged.locations) == [
        ("Archive", 2),
        ("Archive", 3),
        ("INBOX", 1),
    ]

    # A rescan (UIDVALIDITY change) stays cheap: stored copies are not downloaded again,
    # except the relayed copy, whose size differs from the document it duplicates.
    dovecot.set_uidvalidity(mailbox.user, "Archive", 4242)
    again = sync_imap(store, mailbox.config(folders=("Archive",))).to_dict()["folders"][0]
    assert (again["ingested_count"], again["duplicate_count"]) == (0, 3)
    assert again["downloaded_count"] == 1
    assert store.count_documents() == 2
