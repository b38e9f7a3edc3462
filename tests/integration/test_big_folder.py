"""A real Dovecot folder of 200,000 messages: first sync, rerun, UIDVALIDITY rescan.

Past ~155,000 messages one ``UID SEARCH UID 1:*`` reply line is over imaplib's 1 MB line
limit, so such a folder could never be synced. The folder is written straight into the
file of an mbox INBOX on a Dovecot of the test's own (tiny messages, one store reused by
every phase) to keep the suite as short as it can be: one file to write and one to
remove, where a Maildir holds 200,000 (removing those took 398 s of the heavy leg's
teardown on a loaded machine). It runs once per CI run (``heavy``).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import pytest
from mailatlas_core import Store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer

from .conftest import Mailbox, _require_dovecot

pytestmark = [pytest.mark.dovecot, pytest.mark.slow, pytest.mark.heavy]

COUNT = 200_000
log = logging.getLogger(__name__)


def tiny(n: int) -> bytes:
    return (
        f"From: s{n % 97}@example.com\r\nSubject: big {n}\r\nMessage-ID: <big.{n}@example.com>\r\n"
        f"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody {n}\r\n"
    ).encode()


@pytest.fixture
def big_dovecot() -> Iterator[DovecotServer]:
    """A private Dovecot whose one user keeps its mail in mbox."""
    _require_dovecot()
    with DovecotServer(users={"big": f"pw-{secrets.token_hex(12)}"}, mbox_users={"big"}) as server:
        yield server


def test_a_200k_folder_syncs_reruns_and_rescans(
    big_dovecot: DovecotServer, sqlite_store: Store
) -> None:
    dovecot, mailbox = big_dovecot, Mailbox(big_dovecot, "big", big_dovecot.users["big"])
    dovecot.fill_mbox(mailbox.user, (tiny(n) for n in range(COUNT)))
    config = mailbox.config(timeout=60.0, batch_size=1000)
    timings = {}

    started = time.monotonic()
    first = sync_imap(sqlite_store, config).to_dict()
    timings["first"] = time.monotonic() - started
    folder = first["folders"][0]
    assert (first["status"], folder["error"]) == ("ok", None)
    assert (folder["ingested_count"], folder["last_uid"]) == (COUNT, COUNT)

    # A rerun with a little new mail lists only the newest window of the folder.
    dovecot.fill_mbox(mailbox.user, (tiny(n) for n in range(COUNT, COUNT + 3)))
    started = time.monotonic()
    again = sync_imap(sqlite_store, config).to_dict()["folders"][0]
    timings["rerun"] = time.monotonic() - started
    assert (again["status"], again["fetched_count"], again["ingested_count"]) == ("ok", 3, 3)
    assert again["last_uid"] == COUNT + 3

    # UIDVALIDITY changes: the whole folder is listed again and recognised, not fetched.
    dovecot.set_uidvalidity(mailbox.user, "INBOX", 777)
    started = time.monotonic()
    rescan = sync_imap(sqlite_store, config).to_dict()["folders"][0]
    timings["rescan"] = time.monotonic() - started
    assert (rescan["status"], rescan["uidvalidity_reset"]) == ("ok", True)
    assert (rescan["ingested_count"], rescan["duplicate_count"]) == (0, COUNT + 3)
    assert rescan["downloaded_count"] == 0 and rescan["last_uid"] == COUNT + 3
    assert sqlite_store.count_documents() == COUNT + 3
    log.warning("200k folder: %s", {k: round(v, 1) for k, v in timings.items()})
