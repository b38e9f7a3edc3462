"""``mailatlas ingest`` killed with SIGKILL at random points, many times over.

After every kill the store passes ``PRAGMA integrity_check`` and the file checks, and
holds each message at most once; a final rerun ends with every message exactly once.
Each kill lands after observed progress: once the store shows at least N committed
documents, with N drawn from a fixed seed (never a point in time), so CI sees the same
schedule every run whatever the machine's speed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest

from devkit.mailgen import write_mbox
from tests.hostile.helpers import (
    REPO,
    assert_consistent,
    cli_command,
    cli_env,
    committed_documents,
    message_ids,
    wait_for,
)

MESSAGES = 2400
KILLS = 6
# Kill targets stay this far below the end, so each kill lands while work remains
# (several commit batches: the ingest cannot finish between observation and kill).
MARGIN = 1000


def _group_gone(pgid: int, timeout: float) -> bool:
    try:
        wait_for(lambda: not _group(pgid), f"process group {pgid} to exit", timeout=timeout)
    except AssertionError:
        return False
    return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    _group_gone(pgid, 5)


def _start_ingest(args: list[str], home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(home),
        cwd=REPO,
        start_new_session=True,  # its own group: parse workers included
    )


def _group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def _wait_committed(proc: subprocess.Popen[bytes], db: Path, wanted: int) -> None:
    """Return once ``db`` holds ``wanted`` committed documents (or ``proc`` has ended)."""
    wait_for(
        lambda: committed_documents(db) >= wanted or proc.poll() is not None,
        f"{wanted} committed documents",
    )


@pytest.mark.slow
def test_ingest_killed_at_random_points_then_completed(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, MESSAGES, seed=11)
    home = tmp_path / "home"
    db, ws = home / "store.db", home / "workspace"
    args = cli_command("ingest", "mbox", str(mbox), "--quiet")
    rng = random.Random(7)
    targets = sorted(rng.sample(range(1, MESSAGES - MARGIN), KILLS))
    stored_after_kills = []
    for target in targets:
        stored = committed_documents(db)
        if stored >= MESSAGES - MARGIN:
            break  # earlier kills overshot: no room left for a mid-ingest kill
        wanted = max(target, stored + 1)  # at least one document new in this run
        proc = _start_ingest(args, home)
        try:
            _wait_committed(proc, db, wanted)
            os.kill(proc.pid, signal.SIGKILL)  # the main process only, like `kill -9 PID`
            proc.wait(timeout=30)
        finally:
            _kill_group(proc.pid)  # orphaned parse workers: see the test below
        assert proc.returncode == -signal.SIGKILL, "the ingest ended before the kill"
        count = assert_consistent(db, ws)
        assert wanted <= count < MESSAGES  # committed work kept; killed mid-ingest
        ids = message_ids(db)
        assert len(ids) == len(set(ids)) == count  # never a message twice
        stored_after_kills.append(count)

    final = subprocess.run(
        args, capture_output=True, text=True, env=cli_env(home), cwd=REPO, timeout=300
    )
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["failed_count"] == 0
    assert summary["ingested_count"] + summary["duplicate_count"] == MESSAGES
    assert summary["ingested_count"] == MESSAGES - stored_after_kills[-1]
    assert assert_consistent(db, ws) == MESSAGES
    ids = message_ids(db)
    assert len(set(ids)) == len(ids) == MESSAGES
    assert stored_after_kills == sorted(stored_after_kills)  # committed work is never lost
    assert len(stored_after_kills) >= KILLS // 2  # most kills landed, each mid-ingest


@pytest.mark.slow
def test_parse_workers_exit_when_the_ingest_is_killed(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, MESSAGES, seed=12)
    home = tmp_path / "home"
    proc = _start_ingest(cli_command("ingest", "mbox", str(mbox), "--quiet"), home)
    try:
        # Parse workers are running (the group has more than the main process) and
        # feeding the store (a first batch is committed); the ingest is mid-run.
        wait_for(
            lambda: len(_group(proc.pid)) > 1 and committed_documents(home / "store.db") > 0,
            "parse workers and a first commit",
        )
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Workers notice the closed pipe at their next read; a loaded machine may take a while.
        assert _group_gone(proc.pid, 60), "processes of the killed ingest still run after 60 s"
    finally:
        _kill_group(proc.pid)
