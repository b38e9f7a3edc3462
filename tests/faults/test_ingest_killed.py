"""``mailatlas ingest`` killed with SIGKILL at random points, many times over.

After every kill the store is consistent (SQLite: ``PRAGMA integrity_check`` and the file
checks; PostgreSQL + S3: no row without its blob) and holds each message at most once; a
final rerun ends with every message exactly once. The kill test runs on both backends (the
PostgreSQL + S3 one, heavy, on fewer messages: its commits are as many, only slower).
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
from tests.backends import (
    BACKENDS,
    StoreSpec,
    assert_consistent,
    committed,
    message_ids,
    spec_for,
)
from tests.hostile.helpers import REPO, cli_command, cli_env, committed_documents, wait_for

MESSAGES = 2400
KILLS = 6
# Kill targets stay this far below the end, so each kill lands while work remains
# (several commit batches: the ingest cannot finish between observation and kill).
MARGIN = 1000
# PostgreSQL + S3: (messages, kills, margin). Commits come every 200 messages on both
# backends, so 600 messages still give two kills between commits, each mid-ingest.
PG_SIZES = (600, 3, 200)


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


def _start_ingest(
    args: list[str], home: Path, spec: StoreSpec | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(home, spec),
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


def _env(home: Path, spec: StoreSpec | None) -> dict[str, str]:
    """The CLI's environment: its store at MAILATLAS_HOME's default place, or ``spec``'s."""
    if spec is None or spec.backend == "sqlite":
        return cli_env(home)
    return cli_env(home, **spec.env())


def _wait_committed(proc: subprocess.Popen[bytes], spec: StoreSpec, wanted: int) -> None:
    """Return once the store holds ``wanted`` committed documents (or ``proc`` has ended)."""
    wait_for(
        lambda: committed(spec) >= wanted or proc.poll() is not None,
        f"{wanted} committed documents",
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_ingest_killed_at_random_points_then_completed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    messages, kills, margin = (MESSAGES, KILLS, MARGIN) if backend == "sqlite" else PG_SIZES
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, messages, seed=11)
    home = tmp_path / "home"
    # SQLite: the CLI's default place under MAILATLAS_HOME; PostgreSQL + S3 by MAILATLAS_*.
    spec = spec_for(backend, request, home, migrated=True)
    args = cli_command("ingest", "mbox", str(mbox), "--quiet")
    rng = random.Random(7)
    targets = sorted(rng.sample(range(1, messages - margin), kills))
    stored_after_kills = []
    for target in targets:
        stored = committed(spec)
        if stored >= messages - margin:
            break  # earlier kills overshot: no room left for a mid-ingest kill
        wanted = max(target, stored + 1)  # at least one document new in this run
        proc = _start_ingest(args, home, spec)
        try:
            _wait_committed(proc, spec, wanted)
            os.kill(proc.pid, signal.SIGKILL)  # the main process only, like `kill -9 PID`
            proc.wait(timeout=30)
        finally:
            _kill_group(proc.pid)  # orphaned parse workers: see the test below
        assert proc.returncode == -signal.SIGKILL, "the ingest ended before the kill"
        # Existence after each kill (a row never without its blob), hashes at the end.
        count = assert_consistent(spec, hashes=False)
        assert wanted <= count < messages  # committed work kept; killed mid-ingest
        ids = message_ids(spec)
        assert len(ids) == len(set(ids)) == count  # never a message twice
        stored_after_kills.append(count)

    final = subprocess.run(
        args, capture_output=True, text=True, env=_env(home, spec), cwd=REPO, timeout=300
    )
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["failed_count"] == 0
    assert summary["ingested_count"] + summary["duplicate_count"] == messages
    assert summary["ingested_count"] == messages - stored_after_kills[-1]
    assert assert_consistent(spec) == messages
    ids = message_ids(spec)
    assert len(set(ids)) == len(ids) == messages
    assert stored_after_kills == sorted(stored_after_kills)  # committed work is never lost
    assert len(stored_after_kills) >= kills // 2  # most kills landed, each mid-ingest


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
