"""The installed ``mailatlas`` on a real terminal (a pty) and under a real Ctrl-C (SIGINT)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest

from devkit.mailgen import write_mbox
from tests.backends import BACKENDS, committed, spec_for, store_rows
from tests.hostile.helpers import wait_for

from .conftest import make_message
from .test_subprocess import _env, _script

SAFETY_TIMEOUT = 120  # a net for a hung child, never what a test waits for


def _read_pty(primary: int) -> bytes:
    """Everything written to the pty until the child closes it."""
    out = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed its end
            return out
        if not chunk:
            return out
        out += chunk


def test_on_a_terminal_ingest_prints_the_summary_without_refs(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    for i in range(5):
        (mail / f"{i}.eml").write_bytes(make_message(f"Terminal {i}", "body", day=i + 1))
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [_script(), "ingest", "eml", str(mail)],
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=_env(tmp_path / "home"),
    )
    os.close(secondary)
    shown = _read_pty(primary).decode().replace("\r\n", "\n")
    os.close(primary)
    assert proc.wait(SAFETY_TIMEOUT) == 0
    assert json.loads(shown) == {
        "status": "ok",
        "ingested_count": 5,
        "duplicate_count": 0,
        "failed_count": 0,
        "failures": [],
        "skipped_count": 0,
        "skipped": [],
    }
    assert proc.stderr is not None
    assert proc.stderr.read().decode() == (
        "(5 document refs not shown on a terminal — pass --refs to print them, "
        "or run `mailatlas list`)\n"
    )


@pytest.mark.slow
def test_mbox_progress_has_a_total_in_bytes(tmp_path: Path) -> None:
    mbox = tmp_path / "a.mbox"
    size = write_mbox(mbox, 100, seed=7)
    primary, secondary = pty.openpty()
    # a fresh pty is 0x0; give it the size of an ordinary terminal
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [_script(), "ingest", "mbox", str(mbox)],
        stdout=subprocess.DEVNULL,  # a full pipe nobody reads would block the child
        stderr=secondary,
        env={**_env(tmp_path / "home"), "COLUMNS": "120"},
    )
    os.close(secondary)
    drawn = _read_pty(primary).decode("utf-8", "replace")
    os.close(primary)
    assert proc.wait(SAFETY_TIMEOUT) == 0
    total = f"{size / 1024:.0f}k" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f}M"
    assert f"/{total}" in drawn.replace(" ", "")  # e.g. 140k/140k: the total is shown
    assert "100%" in drawn
    assert "ETA" not in drawn or "<" in drawn  # tqdm shows elapsed<remaining


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_during_ingest_prints_the_interrupted_summary(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SIGINT once a batch is committed: exit 130, the summary, one line; rerun resumes.

    The .eml files are named pipes fed one message at a time by this test, which stops
    feeding once a batch is committed: the ingest cannot finish before the signal. On
    SQLite + files at MAILATLAS_HOME's default place, and on PostgreSQL + S3 named by
    MAILATLAS_DB / MAILATLAS_WORKSPACE.
    """
    home = tmp_path / "home"
    spec = spec_for(backend, request, home, migrated=True)
    fifos = []
    for i in range(2_000):
        fifo = tmp_path / "in" / f"{i:04d}.eml"
        fifo.parent.mkdir(exist_ok=True)
        os.mkfifo(fifo)
        fifos.append(fifo)
    stop = threading.Event()

    def feed() -> None:
        for i, fifo in enumerate(fifos):
            if stop.is_set():
                return
            try:
                with open(fifo, "wb") as out:
                    out.write(make_message(f"Piped {i}", f"body {i}"))
            except BrokenPipeError:
                return

    proc = subprocess.Popen(
        [_script(), "ingest", "eml", *map(str, fifos)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**_env(home), **({} if spec.backend == "sqlite" else spec.env())},
    )
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        wait_for(
            lambda: committed(spec) >= 200,
            "the first committed batch",
            timeout=SAFETY_TIMEOUT,
        )
        stop.set()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=SAFETY_TIMEOUT)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
        # unblock a feeder waiting for a reader: open the pipe it waits on ourselves
        for fifo in fifos:
            if not feeder.is_alive():
                break
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        feeder.join(10)

    stored = committed(spec)
    summary = json.loads(stdout)
    assert proc.returncode == 130, stderr
    assert summary["status"] == "interrupted"
    assert summary["ingested_count"] == stored >= 200
    assert len(summary["document_refs"]) == stored
    assert stderr.decode() == f"interrupted: {stored:,} stored; rerun to resume\n"
    assert store_rows(spec.db, "SELECT status FROM runs") == [("interrupted",)]
