"""``mailatlas ingest`` killed with SIGKILL at random points, many times over.

After every kill the store passes ``PRAGMA integrity_check`` and the file checks, and
holds each message at most once; a final rerun ends with every message exactly once.
The kill points are drawn from a fixed seed, so CI sees the same schedule every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from devkit.mailgen import write_mbox
from tests.hostile.helpers import REPO, assert_consistent, cli_command, cli_env, message_ids

MESSAGES = 1500
KILLS = 8


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    _group_gone(pgid, 5)


@pytest.mark.slow
def test_ingest_killed_at_random_points_then_completed(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, MESSAGES, seed=11)
    home = tmp_path / "home"
    db, ws = home / "store.db", home / "workspace"
    args = cli_command("ingest", "mbox", str(mbox), "--quiet")
    rng = random.Random(7)
    stored_after_kills = []
    for _ in range(KILLS):
        proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=cli_env(home),
            cwd=REPO,
            start_new_session=True,  # its own group: parse workers included
        )
        time.sleep(rng.uniform(0.05, 1.6))
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, like `kill -9 PID`
        proc.wait(timeout=30)
        _kill_group(proc.pid)  # orphaned parse workers: see the test below
        if not db.exists():
            stored_after_kills.append(0)
            continue  # killed before the store was created
        count = assert_consistent(db, ws)
        ids = message_ids(db)
        assert len(ids) == len(set(ids)) == count  # never a message twice
        stored_after_kills.append(count)

    final = subprocess.run(
        args, capture_output=True, text=True, env=cli_env(home), cwd=REPO, timeout=120
    )
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["failed_count"] == 0
    assert summary["ingested_count"] + summary["duplicate_count"] == MESSAGES
    assert assert_consistent(db, ws) == MESSAGES
    ids = message_ids(db)
    assert len(set(ids)) == len(ids) == MESSAGES
    assert stored_after_kills == sorted(stored_after_kills)  # committed work is never lost
    assert max(stored_after_kills) > 0  # some kills really landed mid-ingest
    assert min(stored_after_kills) < MESSAGES


def test_parse_workers_exit_when_the_ingest_is_killed(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, MESSAGES, seed=12)
    home = tmp_path / "home"
    proc = subprocess.Popen(
        cli_command("ingest", "mbox", str(mbox), "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(home),
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (home / "store.db").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.8)  # parse workers are running by now
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _group_gone(proc.pid, 5), "processes of the killed ingest still run after 5 s"
    finally:
        _kill_group(proc.pid)
