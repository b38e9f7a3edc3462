"""Two ``mailatlas sync imap`` runs on one store at once, and a sync racing an ingest.

Real CLI processes against a real Dovecot: both exit 0 (no "database is locked"), the
cursor ends at the folder's last UID, and every message is stored exactly once, even
those that arrive through both the mailbox and the mbox. Both run on SQLite + files (at
MAILATLAS_HOME's default place) and, heavy, on PostgreSQL + S3 named by MAILATLAS_DB and
MAILATLAS_WORKSPACE (the race with an ingest on fewer messages there: it is slower).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer
from devkit.mailgen import generate_messages
from tests.backends import (
    BACKENDS,
    StoreSpec,
    assert_consistent,
    committed,
    message_ids,
    spec_for,
)
from tests.hostile.helpers import REPO, cli_command, cli_env, wait_for
from tests.integration.conftest import Mailbox, new_mailbox

pytestmark = pytest.mark.dovecot


def _sync_env(box: Mailbox, home: Path, spec: StoreSpec) -> dict[str, str]:
    store = {} if spec.backend == "sqlite" else spec.env()  # SQLite: MAILATLAS_HOME's place
    return cli_env(
        home,
        **store,
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
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_syncs_on_one_store_at_once(
    backend: str, request: pytest.FixtureRequest, dovecot: DovecotServer, tmp_path: Path
) -> None:
    total, inbox = (400, 300) if backend == "sqlite" else (200, 150)  # PG + S3 is slower
    box = new_mailbox(dovecot)
    mail = list(generate_messages(total, seed=21))
    dovecot.fill_maildir(box.user, "INBOX", mail[:inbox])
    dovecot.fill_maildir(box.user, "Archive", mail[inbox:])
    home = tmp_path / "home"
    spec = spec_for(backend, request, home)  # not made yet: both runs create it at once
    env = _sync_env(box, home, spec)
    args = ["sync", "imap", "--folder", "INBOX", "--folder", "Archive"]

    procs = [_start(args, env) for _ in range(2)]
    results = [_finish(p) for p in procs]

    assert all(r["status"] == "ok" for r in results)
    ingested = sum(int(r["ingested_count"]) for r in results)  # type: ignore[call-overload]
    assert ingested == total  # between them, each message became a document once
    assert assert_consistent(spec) == total
    assert len(set(message_ids(spec))) == total
    with contextlib.closing(spec.open(create=False)) as store:
        for folder, last in (("INBOX", inbox), ("Archive", total - inbox)):
            cursor = store.get_cursor("127.0.0.1", box.server.imaps_port, box.user, folder)
            assert cursor is not None and cursor.last_uid == last, folder
    rerun = _finish(_start(args, env))
    assert (rerun["fetched_count"], rerun["ingested_count"]) == (0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_racing_an_ingest_of_overlapping_mail(
    backend: str, request: pytest.FixtureRequest, dovecot: DovecotServer, tmp_path: Path
) -> None:
    total = 2000 if backend == "sqlite" else 600  # PG + S3 is slower
    box = new_mailbox(dovecot)
    mail = list(generate_messages(total, seed=22))
    dovecot.fill_maildir(box.user, "INBOX", mail[:400])
    mbox = tmp_path / "overlap.mbox"
    with mbox.open("wb") as fh:  # the others, then 200 that are also in the mailbox
        for raw in mail[400:] + mail[200:400]:
            fh.write(b"From sender@example.com Mon Jan  1 00:00:00 2024\n")
            fh.write(raw.replace(b"\nFrom ", b"\n>From ").rstrip(b"\n") + b"\n\n")
    home = tmp_path / "home"
    spec = spec_for(backend, request, home, migrated=True)
    env = _sync_env(box, home, spec)

    # The sync starts once the ingest is observed mid-run (a first batch committed), so
    # the two write one store at once, and the overlapping mail comes at the ingest's end.
    ingest = _start(["ingest", "mbox", str(mbox), "--quiet"], env)
    wait_for(
        lambda: committed(spec) > 0 or ingest.poll() is not None,
        "the ingest's first commit",
    )
    sync = _start(["sync", "imap"], env)
    synced, ingested = _finish(sync), _finish(ingest)

    assert (synced["status"], synced["fetched_count"]) == ("ok", 400)
    assert ingested["failed_count"] == 0
    new = int(synced["ingested_count"]) + int(ingested["ingested_count"])  # type: ignore[call-overload]
    assert new == total
    assert assert_consistent(spec) == total
    assert len(set(message_ids(spec))) == total
    with contextlib.closing(spec.open(create=False)) as store:
        cursor = store.get_cursor("127.0.0.1", box.server.imaps_port, box.user, "INBOX")
        assert cursor is not None and cursor.last_uid == 400
