"""What a SIGKILLed ingest leaves behind is cleaned up by the next writer.

A killed writer can leave temp files (full copies of private mail, ``.<name>.<pid>.tmp``)
and a ``runs`` row stuck at ``running``. The next writer to open the store removes the
temp files of dead processes and marks their runs ``interrupted``; readers change
nothing, and a live process's temp file is never touched. The runs half holds on every
store backend; temp files exist only in a local workspace (an S3 PUT is atomic).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from devkit.mailgen import write_mbox
from tests.backends import BACKENDS, StoreSpec, committed, spec_for, store_rows
from tests.cli.conftest import make_message
from tests.hostile.helpers import REPO, cli_command, cli_env, run_cli, wait_for

MESSAGES = 600  # two commit batches of 200 still to come after the kill
PROGRESS = 200  # documents committed before the kill


@pytest.fixture(params=BACKENDS)
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """SQLite + files at MAILATLAS_HOME's default place, or PostgreSQL + S3 (heavy)."""
    return spec_for(request.param, request, tmp_path / "home", migrated=True)


def _env(spec: StoreSpec) -> dict[str, str]:
    return {} if spec.backend == "sqlite" else spec.env()


def _runs(spec: StoreSpec) -> list[tuple[str, str]]:
    rows = store_rows(spec.db, "SELECT kind, status FROM runs ORDER BY id")
    return [(str(r[0]), str(r[1])) for r in rows]


def _kill_after_progress(home: Path, mbox: Path, spec: StoreSpec) -> int:
    """Start an ingest, SIGKILL it once PROGRESS documents are committed; its pid."""
    proc = subprocess.Popen(
        cli_command("ingest", "mbox", str(mbox), "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(home, **_env(spec)),
        cwd=REPO,
        start_new_session=True,
    )
    try:  # the timeout is a safety net only: the kill waits for progress
        wait_for(
            lambda: committed(spec) >= PROGRESS or proc.poll() is not None,
            f"{PROGRESS} committed documents",
            timeout=300,
        )
        assert proc.poll() is None, "the ingest ended before it could be killed"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    return proc.pid


@pytest.mark.slow
def test_the_next_writer_sweeps_temp_files_and_marks_the_run_interrupted(
    tmp_path: Path, store_spec: StoreSpec
) -> None:
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, MESSAGES, seed=5)
    home = tmp_path / "home"
    env = _env(store_spec)
    local = store_spec.backend == "sqlite"
    ws = Path(store_spec.workspace)
    dead = _kill_after_progress(home, mbox, store_spec)
    assert _runs(store_spec) == [("mbox", "running")]

    private = b"Subject: private\r\n\r\nsecret body\r\n"
    if local:
        # What a kill mid-write leaves (planted, so the test does not depend on the
        # instant of the kill): a temp file of the dead pid in tmp/, and one of a live
        # process.
        doc_id = next(p.stem for p in (ws / "raw").glob("*.eml"))
        stale = ws / "tmp" / f".{doc_id}.eml.{dead}.tmp"
        live = ws / "tmp" / f".{doc_id}.html.{os.getpid()}.tmp"
        for path in (stale, live):
            path.write_bytes(private)

    listed = run_cli(["list", "--limit", "1"], home, **env)  # a reader changes nothing
    assert listed.returncode == 0, listed.stderr
    assert _runs(store_spec) == [("mbox", "running")]
    assert not local or stale.exists()

    one = tmp_path / "one.eml"
    one.write_bytes(make_message("After the kill", "A new message."))
    done = run_cli(["ingest", "eml", str(one), "--quiet"], home, **env)
    assert done.returncode == 0, done.stderr
    assert _runs(store_spec) == [("mbox", "interrupted"), ("eml", "ok")]
    ((summary,),) = store_rows(store_spec.db, "SELECT summary FROM runs WHERE kind = 'mbox'")
    if isinstance(summary, str):  # JSON text in SQLite, json in PostgreSQL
        summary = json.loads(summary)
    assert summary == {"reason": "the process ended before the run finished"}
    if not local:
        return  # no temp files in an S3 workspace: a PUT is atomic
    assert not stale.exists() and live.read_bytes() == private
    assert list(ws.rglob(f"*.{dead}.tmp")) == []  # nothing of it, wherever the kill landed

    # A workspace written by a version without tmp/ kept temp files beside their target.
    live.unlink()
    (ws / "tmp").rmdir()
    legacy = ws / "raw" / f".{doc_id}.eml.{dead}.tmp"
    legacy.write_bytes(private)
    rerun = run_cli(["ingest", "mbox", str(mbox), "--quiet"], home)  # completes the work
    assert rerun.returncode == 0, rerun.stderr
    counts = json.loads(rerun.stdout)
    assert counts["ingested_count"] + counts["duplicate_count"] == MESSAGES
    assert not legacy.exists()
