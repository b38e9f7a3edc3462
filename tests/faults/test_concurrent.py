"""Two ``mailatlas sync imap`` runs on one store at once, and a sync racing an ingest.

Real CLI processes against a real Dovecot: both exit 0 (no "database is locked"), the
cursor ends at the folder's last UID, and every message is stored exactly once, even
those that arrive through both the mailbox and the mbox.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import pytest
from mailatlas_core import open_store

from devkit.dovecot import DovecotServer
from devkit.mailgen import generate_messages
from tests.hostile.helpers import (
    REPO,
    assert_consistent,
    cli_command,
    cli_env,
    committed_documents,
    message_ids,
    wait_for,
)
from tests.integration.conftest import Mailbox, new_mailbox

pytestmark = pytest.mark.dovecot


def _sync_env(box: Mailbox, home: Path) -> dict[str, str]:
    return cli_env(
        home,
        MAILATLAS_IMAP_HOST="127.0.0.1",
        MAILATLAS_IMAP_PORT=str(box.server.imaps_port),
        MAILATLAS_IMAP_USERNAME=box.user,
        MAILATLAS_IMAP_PASSWORD=box.password,
        MAILATLAS_IMAP_CA_FILE=str(box.server.cert_path),
    )


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        cwd=REPO,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=180)
    assert "locked" not in err.lower() and "Traceback" not in err, err
    assert proc.returncode == 0, err
    result: dict[str, object] = json.loads(out)
    return result


@pytest.mark.slow
def test_two_syncs_on_one_store_at_once(dovecot: DovecotServer, tmp_path: Path) -> None:
    box = new_mailbox(dovecot)
    mail = list(generate_messages(400, seed=21))
    dovecot.fill_maildir(box.user, "INBOX", mail[:300])
    dovecot.fill_maildir(box.user, "Archive", mail[300:])
    home = tmp_path / "home"
    env = _sync_env(box, home)
    args = ["sync", "imap", "--folder", "INBOX", "--folder", "Archive"]

    procs = [_start(args, env) for _ in range(2)]
    results = [_finish(p) for p in procs]

    assert all(r["status"] == "ok" for r in results)
    ingested = sum(int(r["ingested_count"]) for r in results)  # type: ignore[call-overload]
    assert ingested == 400  # between them, each message became a document once
    db, ws = home / "store.db", home / "workspace"
    assert assert_consistent(db, ws) == 400
    assert len(set(message_ids(db))) == 400
    with contextlib.closing(open_store(db, ws, create=False)) as store:
        for folder, last in (("INBOX", 300), ("Archive", 100)):
            cursor = store.get_cursor("127.0.0.1", box.server.imaps_port, box.user, folder)
            assert cursor is not None and cursor.last_uid == last, folder
    rerun = _finish(_start(args, env))
    assert (rerun["fetched_count"], rerun["ingested_count"]) == (0, 0)


@pytest.mark.slow
def test_sync_racing_an_ingest_of_overlapping_mail(dovecot: DovecotServer, tmp_path: Path) -> None:
    box = new_mailbox(dovecot)
    mail = list(generate_messages(2000, seed=22))
    dovecot.fill_maildir(box.user, "INBOX", mail[:400])
    mbox = tmp_path / "overlap.mbox"
    with mbox.open("wb") as fh:  # 1,600 others, then 200 that are also in the mailbox
        for raw in mail[400:] + mail[200:400]:
            fh.write(b"From sender@example.com Mon Jan  1 00:00:00 2024\n")
            fh.write(raw.replace(b"\nFrom ", b"\n>From ").rstrip(b"\n") + b"\n\n")
    home = tmp_path / "home"
    env = _sync_env(box, home)
    db, ws = home / "store.db", home / "workspace"

    # The sync starts once the ingest is observed mid-run (a first batch committed), so
    # the two write one store at once, and the overlapping mail comes at the ingest's end.
    ingest = _start(["ingest", "mbox", str(mbox), "--quiet"], env)
    wait_for(
        lambda: committed_documents(db) > 0 or ingest.poll() is not None,
        "the ingest's first commit",
    )
    sync = _start(["sync", "imap"], env)
    synced, ingested = _finish(sync), _finish(ingest)

    assert (synced["status"], synced["fetched_count"]) == ("ok", 400)
    assert ingested["failed_count"] == 0
    new = int(synced["ingested_count"]) + int(ingested["ingested_count"])  # type: ignore[call-overload]
    assert new == 2000
    assert assert_consistent(db, ws) == 2000
    assert len(set(message_ids(db))) == 2000
    with contextlib.closing(open_store(db, ws, create=False)) as store:
        cursor = store.get_cursor("127.0.0.1", box.server.imaps_port, box.user, "INBOX")
        assert cursor is not None and cursor.last_uid == 400
