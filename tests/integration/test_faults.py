"""Faults: crashes, cut and stalled connections, poison messages, missing folders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mailatlas_core import Store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer
from devkit.faultproxy import FaultProxy
from tests.backends import StoreSpec, read_located, sqlite_only

from .conftest import Mailbox, message, messages, new_mailbox

pytestmark = pytest.mark.dovecot


def stored_uids(store: Store, folder: str = "INBOX") -> list[int]:
    """The IMAP uids of every stored location in ``folder``, one entry per location."""
    uids = []
    for ref in store_refs(store):
        for loc in store.get_document(ref).locations:
            if loc.detail.get("folder") == folder:
                uids.append(int(loc.detail["uid"]))
    return sorted(uids)


def store_refs(store: Store) -> list[str]:
    from mailatlas_core import ListFilter

    return [r.id for r in store.list_documents(ListFilter(limit=100_000))]


def test_server_killed_mid_fetch_then_restarted(own_dovecot: DovecotServer, store: Store):
    box = new_mailbox(own_dovecot)
    own_dovecot.fill_maildir(box.user, "INBOX", messages(120, tag="crash"))
    own_dovecot.fill_maildir(box.user, "Other", messages(10, tag="crash2"))
    config = box.config(folders=("INBOX", "Other"), batch_size=20, max_retries=2)

    def crash_after_two_batches(folder: str, done: int, total: int) -> None:
        if done == 40:
            own_dovecot.kill()

    first = sync_imap(store, config, progress=crash_after_two_batches).to_dict()

    assert first["status"] == "error"
    inbox, other = first["folders"]
    assert inbox["status"] == "error" and "gave up after 2 retries" in inbox["error"]
    # Committed batches stay, and so does the third: it was downloaded (the fetch is
    # pipelined ahead of the commit) before the server died, so it is committed too.
    assert (inbox["ingested_count"], inbox["last_uid"]) == (60, 60)
    assert other["status"] == "error" and other["error"].startswith("not synced")
    assert store.count_documents() == 60
    cursor = store.get_cursor("127.0.0.1", config.port, box.user, "INBOX")
    assert cursor is not None and cursor.last_uid == 60

    own_dovecot.start()
    second = sync_imap(store, config).to_dict()

    assert second["status"] == "ok"
    assert [f["ingested_count"] for f in second["folders"]] == [60, 10]
    assert store.count_documents() == 130
    assert stored_uids(store) == list(range(1, 121))  # every message exactly once


@sqlite_only  # IMAP transport, not the store
@pytest.mark.parametrize("tls", ["none", "implicit"])
def test_connection_cut_mid_literal_resumes(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store, tls: str
):
    body = "x" * 3000
    dovecot.fill_maildir(
        mailbox.user, "INBOX", [message(i, tag=f"cut{tls}", body=body) for i in range(60)]
    )
    port = dovecot.imap_port if tls == "none" else dovecot.imaps_port
    with FaultProxy("127.0.0.1", port) as proxy:
        # ~3.3 kB per message: 100 kB in is inside the second batch's FETCH literals.
        proxy.cut_after(100_000)
        config = mailbox.config(port=proxy.port, tls=tls, batch_size=20)
        if tls == "none":
            config = mailbox.config(port=proxy.port, tls=tls, batch_size=20, ca_file=None)
        out = sync_imap(store, config).to_dict()

    folder = out["folders"][0]
    assert proxy.faults_injected == 1
    assert (out["status"], folder["retries"]) == ("ok", 1)
    assert folder["ingested_count"] == 60 and folder["duplicate_count"] == 0
    assert stored_uids(store) == list(range(1, 61))


def test_stalled_server_times_out_and_resumes(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(30, tag="stall"))
    with FaultProxy("127.0.0.1", dovecot.imaps_port) as proxy:
        proxy.stall_after(4_000)  # after login, inside the first FETCH
        config = mailbox.config(port=proxy.port, timeout=0.5, batch_size=10)
        started = time.monotonic()
        out = sync_imap(store, config).to_dict()

    assert time.monotonic() - started < 5
    assert (out["status"], out["folders"][0]["retries"]) == ("ok", 1)
    assert store.count_documents() == 30


@sqlite_only  # IMAP transport, not the store
def test_server_that_stays_stalled_gives_up(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(5, tag="stuck"))
    with FaultProxy("127.0.0.1", dovecot.imaps_port) as proxy:
        config = mailbox.config(port=proxy.port, timeout=0.4, max_retries=1)
        proxy.stall_after(4_000, connections=10)
        started = time.monotonic()
        out = sync_imap(store, config).to_dict()

    assert time.monotonic() - started < 5
    folder = out["folders"][0]
    assert out["status"] == "error" and folder["status"] == "error"
    assert "did not answer within 0.4 s" in folder["error"]


def test_poison_message_does_not_block_the_folder(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store, store_spec: StoreSpec
):
    # An Outlook .msg (OLE2), without CR, LF and NUL, which IMAP would rewrite.
    blob = bytes(b for b in range(1, 256) if b not in (10, 13))
    poison = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + blob * 4
    dovecot.fill_maildir(mailbox.user, "INBOX", [message(0, tag="p"), poison, message(2, tag="p")])

    out = sync_imap(store, mailbox.config()).to_dict()

    folder = out["folders"][0]
    assert (out["status"], folder["status"]) == ("partial", "partial")
    assert (folder["ingested_count"], folder["failed_count"], folder["last_uid"]) == (2, 1, 3)
    assert out["failed_count"] == 1
    failures = list(store.iter_failures())
    assert len(failures) == 1
    assert "Outlook" in failures[0]["reason"]
    assert read_located(failures[0]["raw_path"]) == poison  # kept, byte for byte
    if store_spec.backend == "sqlite":
        workspace = Path(store_spec.workspace)
        raw_files = [p for p in workspace.rglob("*") if p.is_file() and p.read_bytes() == poison]
        assert len(raw_files) == 1  # once

    dovecot.append(mailbox.user, "INBOX", [message(3, tag="p")], password=mailbox.password)
    again = sync_imap(store, mailbox.config()).to_dict()
    assert (again["status"], again["fetched_count"], again["ingested_count"]) == ("ok", 1, 1)
    assert len(list(store.iter_failures())) == 1


def test_unknown_folder_next_to_good_ones(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(2, tag="uf"))
    dovecot.fill_maildir(mailbox.user, "Work", messages(3, tag="uf2"))
    config = mailbox.config(folders=("INBOX", "Does Not Exist", "Work"))

    out = sync_imap(store, config).to_dict()

    assert (out["status"], out["error_count"], out["ingested_count"]) == ("partial", 1, 5)
    missing = out["folders"][1]
    assert missing["status"] == "error" and missing["ingested_count"] == 0
    assert "Does Not Exist" in missing["error"]
    assert "doesn't exist" in missing["error"].lower() or "nonexistent" in missing["error"]
    assert "b'" not in missing["error"] and "\\" not in missing["error"]
    assert [f["status"] for f in out["folders"]] == ["ok", "error", "ok"]


def test_all_folders_missing_is_an_error(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    out = sync_imap(store, mailbox.config(folders=("Nope",))).to_dict()
    assert (out["status"], out["error_count"]) == ("error", 1)


def test_parse_workers_give_the_same_result(dovecot: DovecotServer, mailbox: Mailbox, store: Store):
    poison = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"x" * 100
    dovecot.fill_maildir(mailbox.user, "INBOX", [*messages(25, tag="pw1"), poison])

    out = sync_imap(store, mailbox.config(parse_workers=1, batch_size=10)).to_dict()

    folder = out["folders"][0]
    assert (folder["ingested_count"], folder["failed_count"], folder["last_uid"]) == (25, 1, 26)
    assert store.count_documents() == 25
