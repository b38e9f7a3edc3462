"""Concurrent writers and crashed writers leave a consistent, exactly-once store."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_core import open_store

from tests.hostile.helpers import assert_consistent

REPO = Path(__file__).resolve().parents[2]


def _writer(db: Path, ws: Path, count: int, batch: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.core.writer",
            str(db),
            str(ws),
            str(count),
            str(batch),
            *extra,
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _racing_writers(db: Path, ws: Path, count: int, batch: int) -> list[subprocess.Popen[str]]:
    """Two writers, released together once both are ready (a barrier, not a clock)."""
    procs = [_writer(db, ws, count, batch, "--wait") for _ in range(2)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return procs


def test_two_processes_adding_the_same_300_messages(tmp_path: Path) -> None:
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    open_store(db, ws).close()  # both writers race on the same, existing store
    procs = _racing_writers(db, ws, 300, 25)
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip().endswith("done")
    assert assert_consistent(db, ws) == 300
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM locations").fetchone()[0] == 300
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 300


def test_two_processes_creating_a_fresh_store_at_once(tmp_path: Path) -> None:
    db, ws = tmp_path / "new" / "store.db", tmp_path / "new" / "ws"
    procs = _racing_writers(db, ws, 60, 10)
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert assert_consistent(db, ws) == 60


@pytest.mark.parametrize("seed", range(4))
def test_writer_killed_mid_batch_leaves_a_consistent_store(tmp_path: Path, seed: int) -> None:
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    rng = random.Random(seed)
    # Kill once the writer reports adding message N: after at least one committed
    # batch, anywhere inside a later one (N drawn per seed, never a point in time).
    kill_at = rng.randint(200, 1799)
    proc = _writer(db, ws, 2000, 200, "--hold-at", str(kill_at))
    assert proc.stdout is not None
    for line in proc.stdout:
        if line == f"added {kill_at}\n":
            break
    else:
        raise AssertionError(f"the writer ended before adding message {kill_at}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # The writer holds inside the batch holding message N: every batch before it
    # committed, nothing of that one did.
    assert assert_consistent(db, ws) == kill_at // 200 * 200
    # A rerun completes the job with every message stored exactly once.
    rerun = _writer(db, ws, 2000, 200)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert assert_consistent(db, ws) == 2000
