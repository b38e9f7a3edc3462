"""IMAP faults not covered in tests/integration: UIDVALIDITY changed and a folder
deleted while a sync is running. Each run ends with a clear report; the rerun leaves
every message stored exactly once.
"""

from __future__ import annotations

import pytest
from mailatlas_core import ListFilter, Store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer
from tests.integration.conftest import Mailbox, messages

pytestmark = pytest.mark.dovecot


def _uids(store: Store, folder: str) -> list[tuple[str, int]]:
    found = []
    for ref in store.list_documents(ListFilter(limit=100_000)):
        for loc in store.get_document(ref.id).locations:
            if loc.detail.get("folder") == folder:
                found.append((str(loc.detail["uidvalidity"]), int(loc.detail["uid"])))
    return sorted(found)


def test_uidvalidity_changed_mid_run(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
) -> None:
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(60, tag="uvmid"))
    config = mailbox.config(batch_size=10, max_retries=2)
    changed: list[int] = []

    def change_after_two_batches(folder: str, done: int, total: int) -> None:
        if done == 20 and not changed:
            dovecot.set_uidvalidity(mailbox.user, "INBOX", 777)  # drops the session
            changed.append(done)

    first = sync_imap(store, config, progress=change_after_two_batches).to_dict()
    folder = first["folders"][0]
    assert changed == [20]
    # The dropped session is retried, the reset noticed and the folder rescanned in the
    # same run: the 30 stored before the change (two committed batches and the third,
    # downloaded before the change and committed when the session dropped) are
    # recognised, the other 30 fetched.
    assert (first["status"], folder["status"], folder["error"]) == ("ok", "ok", None)
    assert (folder["uidvalidity"], folder["uidvalidity_reset"], folder["retries"]) == (
        "777",
        True,
        1,
    )
    assert (folder["ingested_count"], folder["duplicate_count"], folder["last_uid"]) == (
        60,
        30,
        60,
    )
    assert store.count_documents() == 60

    second = sync_imap(store, config).to_dict()
    assert (second["status"], second["fetched_count"]) == ("ok", 0)
    assert store.count_documents() == 60  # each message exactly once
    assert [v for v, _uid in _uids(store, "INBOX")].count("777") == 60
    cursor = store.get_cursor("127.0.0.1", config.port, mailbox.user, "INBOX")
    assert cursor is not None and (cursor.uidvalidity, cursor.last_uid) == (777, 60)


def test_folder_deleted_mid_run(dovecot: DovecotServer, mailbox: Mailbox, store: Store) -> None:
    dovecot.fill_maildir(mailbox.user, "Doomed", messages(40, tag="doomed"))
    dovecot.fill_maildir(mailbox.user, "Work", messages(15, tag="work"))
    config = mailbox.config(folders=("Doomed", "Work"), batch_size=10, max_retries=1)
    deleted: list[int] = []

    def delete_after_one_batch(folder: str, done: int, total: int) -> None:
        if folder == "Doomed" and done == 10 and not deleted:
            dovecot.doveadm("mailbox", "delete", "-u", mailbox.user, "-s", "Doomed")
            deleted.append(done)

    first = sync_imap(store, config, progress=delete_after_one_batch).to_dict()

    doomed, work = first["folders"]
    assert deleted == [10]
    assert first["status"] == "partial"
    assert doomed["status"] == "error" and "Doomed" in doomed["error"]
    assert "b'" not in doomed["error"]
    assert (work["status"], work["ingested_count"]) == ("ok", 15)  # the others go on
    kept = store.count_documents() - 15
    assert 10 <= kept <= 40  # what was fetched before the delete is kept

    second = sync_imap(store, config).to_dict()
    assert [f["status"] for f in second["folders"]] == ["error", "ok"]
    assert second["folders"][1]["fetched_count"] == 0
    assert store.count_documents() == 15 + kept
    assert len(_uids(store, "Doomed")) == kept  # never stored twice
