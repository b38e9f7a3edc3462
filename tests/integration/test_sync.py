"""Incremental sync against a real Dovecot: first run, reruns, new mail, folders, TLS modes."""

from __future__ import annotations

import pytest
from mailatlas_core import Store
from mailatlas_imap import ImapConnectionError, sync_imap

from devkit.dovecot import DovecotServer
from tests.backends import StoreSpec, sqlite_only, store_rows

from .conftest import Mailbox, message, messages

pytestmark = pytest.mark.dovecot


def test_first_sync_rerun_and_new_mail(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(23, tag="in"))
    dovecot.fill_maildir(mailbox.user, "Newsletters", messages(12, tag="nl"))
    config = mailbox.config(folders=("INBOX", "Newsletters"), batch_size=5)
    seen_progress: list[tuple[str, int, int]] = []

    first = sync_imap(store, config, progress=lambda *a: seen_progress.append(a))

    out = first.to_dict()
    assert (out["status"], out["folder_count"], out["error_count"]) == ("ok", 2, 0)
    assert (out["fetched_count"], out["ingested_count"], out["duplicate_count"]) == (35, 35, 0)
    inbox, news = out["folders"]
    assert (inbox["folder"], inbox["last_uid"], inbox["ingested_count"]) == ("INBOX", 23, 23)
    assert (news["folder"], news["last_uid"], news["ingested_count"]) == ("Newsletters", 12, 12)
    assert isinstance(inbox["uidvalidity"], str) and inbox["uidvalidity"].isdigit()
    assert inbox["error"] is None
    assert len(inbox["document_refs"]) == 23
    assert list(inbox["document_refs"][0])[:4] == ["id", "subject", "source_kind", "created_at"]
    assert {r["source_kind"] for r in inbox["document_refs"]} == {"imap"}
    assert store.count_documents() == 35
    assert seen_progress[-1] == ("Newsletters", 12, 12)
    assert ("INBOX", 5, 23) in seen_progress

    doc = store.get_document(inbox["document_refs"][0]["id"])
    assert doc.source_kind == "imap"
    src = doc.metadata["source"]
    assert src["kind"] == "imap" and src["host"] == "127.0.0.1" and src["folder"] == "INBOX"
    assert src["uid"] == 1 and src["uidvalidity"] == inbox["uidvalidity"]
    assert doc.subject == "Message in 0"
    cursor = store.get_cursor("127.0.0.1", config.port, mailbox.user, "INBOX")
    assert cursor is not None and cursor.last_uid == 23
    assert str(cursor.uidvalidity) == inbox["uidvalidity"]

    again = sync_imap(store, config).to_dict()
    assert (again["status"], again["fetched_count"], again["ingested_count"]) == ("ok", 0, 0)
    assert [f["unchanged"] for f in again["folders"]] == [True, True]
    assert [f["last_uid"] for f in again["folders"]] == [23, 12]

    dovecot.append(mailbox.user, "INBOX", messages(3, tag="late"), password=mailbox.password)
    third = sync_imap(store, config).to_dict()
    assert (third["fetched_count"], third["ingested_count"]) == (3, 3)
    assert third["folders"][0]["last_uid"] == 26
    assert third["folders"][1]["unchanged"] is True
    assert sorted(r["subject"] for r in third["folders"][0]["document_refs"]) == [
        "Message late 0",
        "Message late 1",
        "Message late 2",
    ]
    assert store.count_documents() == 38


def test_sync_never_marks_mail_as_read(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(6, tag="unseen"))
    dovecot.fill_maildir(mailbox.user, "INBOX", [message(99, tag="read")], seen=True)
    before = dovecot.flags(mailbox.user, "INBOX")
    assert sum("\\Seen" in f for f in before.values()) == 1

    assert sync_imap(store, mailbox.config()).ingested_count == 7

    after = dovecot.flags(mailbox.user, "INBOX")
    assert {uid: "\\Seen" in f for uid, f in after.items()} == {
        uid: "\\Seen" in f for uid, f in before.items()
    }


def test_flag_change_only_rescans_nothing(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(4, tag="flag"))
    sync_imap(store, mailbox.config())
    dovecot.doveadm("flags", "add", "-u", mailbox.user, "\\Flagged", "mailbox", "INBOX", "uid", "2")

    out = sync_imap(store, mailbox.config()).to_dict()["folders"][0]
    assert out["unchanged"] is False  # HIGHESTMODSEQ moved, so the folder was looked at
    assert (out["fetched_count"], out["last_uid"], out["status"]) == (0, 4, "ok")


def test_message_in_two_folders_is_one_document(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
):
    shared = message(1, tag="both")
    dovecot.fill_maildir(mailbox.user, "INBOX", [shared, message(2, tag="only")])
    dovecot.fill_maildir(mailbox.user, "Archive", [shared])

    out = sync_imap(store, mailbox.config(folders=("INBOX", "Archive"))).to_dict()

    assert (out["ingested_count"], out["duplicate_count"]) == (2, 1)
    assert out["folders"][1]["document_refs"] == []
    doc_id = out["folders"][0]["document_refs"][0]["id"]
    folders = sorted(loc.detail.get("folder") for loc in store.get_document(doc_id).locations)
    assert folders == ["Archive", "INBOX"]


def test_non_ascii_folder_names(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    names = ("Entwürfe", "Überweisungen 2024", "日本語")
    for i, name in enumerate(names):
        dovecot.create_folder(mailbox.user, name)
        dovecot.append(mailbox.user, name, [message(i, tag=f"u{i}")], password=mailbox.password)

    out = sync_imap(store, mailbox.config(folders=names)).to_dict()

    assert out["status"] == "ok", out
    assert [f["folder"] for f in out["folders"]] == list(names)
    assert [f["ingested_count"] for f in out["folders"]] == [1, 1, 1]
    doc = store.get_document(out["folders"][0]["document_refs"][0]["id"])
    assert doc.metadata["source"]["folder"] == "Entwürfe"
    assert store.get_cursor("127.0.0.1", mailbox.server.imaps_port, mailbox.user, "日本語")


@sqlite_only  # IMAP transport, not the store
def test_starttls(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(3, tag="stls"))
    config = mailbox.config(port=dovecot.imap_port, tls="starttls")
    assert sync_imap(store, config).to_dict()["ingested_count"] == 3


@sqlite_only  # IMAP transport, not the store
def test_plaintext_to_loopback_when_asked(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(2, tag="plain"))
    config = mailbox.config(port=dovecot.imap_port, tls="none", ca_file=None)
    assert sync_imap(store, config).to_dict()["ingested_count"] == 2


@sqlite_only  # IMAP transport, not the store
@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_untrusted_certificate_is_refused_unless_its_ca_is_given(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store, tls: str
):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(1, tag=f"cert{tls}"))
    port = dovecot.imaps_port if tls == "implicit" else dovecot.imap_port
    with pytest.raises(ImapConnectionError, match="not trusted") as info:
        sync_imap(store, mailbox.config(port=port, tls=tls, ca_file=None, max_retries=3))
    assert "ca_file" in str(info.value)
    assert store.count_documents() == 0

    assert sync_imap(store, mailbox.config(port=port, tls=tls)).ingested_count == 1


def test_an_interrupted_sync_is_recorded_and_resumes(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store, store_spec: StoreSpec
):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(12, tag="int"))
    config = mailbox.config(batch_size=4)

    def ctrl_c_after_first_batch(folder: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_imap(store, config, progress=ctrl_c_after_first_batch)
    runs = store_rows(store_spec.db, "SELECT status FROM runs WHERE kind = 'imap'")
    assert [r[0] for r in runs] == ["interrupted"]
    assert store.count_documents() == 4  # the committed batch stays

    resumed = sync_imap(store, config)
    assert (resumed.status, resumed.ingested_count) == ("ok", 8)
    assert store.count_documents() == 12
