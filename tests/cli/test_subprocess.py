"""The installed ``mailatlas`` script and ``python -m mailatlas_cli``, run for real."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from mailatlas_cli import __version__

from .conftest import make_message


def _script() -> str:
    beside = Path(sys.executable).parent / "mailatlas"
    found = str(beside) if beside.is_file() else shutil.which("mailatlas")
    if found is None:
        pytest.fail("the mailatlas console script is not installed in this environment")
    return found


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILATLAS_")}
    env["MAILATLAS_HOME"] = str(home)
    return env


def test_version_from_script_and_module(tmp_path: Path) -> None:
    for command in ([_script()], [sys.executable, "-m", "mailatlas_cli"]):
        done = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, env=_env(tmp_path)
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, f"mailatlas {__version__}\n", "")


def test_help_everywhere(tmp_path: Path) -> None:
    for args in (["-h"], ["ingest", "-h"], ["sync", "imap", "--help"], ["export", "-h"]):
        done = subprocess.run(
            [_script(), *args], capture_output=True, text=True, env=_env(tmp_path)
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Usage: mailatlas")


def test_ingest_then_user_error_for_real(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mail = tmp_path / "m.eml"
    mail.write_bytes(make_message("Subprocess run", "body"))
    done = subprocess.run(
        [_script(), "ingest", "eml", str(mail)], capture_output=True, text=True, env=_env(home)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ingested_count"] == 1
    assert done.stderr == ""

    bad = subprocess.run(
        [sys.executable, "-m", "mailatlas_cli", "show", "nope"],
        capture_output=True,
        text=True,
        env=_env(home),
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == "Error: no document with id 'nope'; run `mailatlas list` to see ids\n"


@pytest.mark.slow
def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a terminal, ingest draws counts and a rate; stdout stays pure JSON."""
    for i in range(30):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"{i}.eml").write_bytes(make_message(f"Message {i}", f"body {i}"))
    primary, secondary = pty.openpty()
    # a fresh pty is 0x0; give it the size of an ordinary terminal
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [_script(), "ingest", "eml", str(tmp_path / "in")],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env={**_env(tmp_path / "home"), "COLUMNS": "120"},
    )
    os.close(secondary)
    drawn = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    stdout = proc.stdout.read() if proc.stdout else b""
    assert proc.wait(30) == 0
    os.close(primary)
    assert json.loads(stdout)["ingested_count"] == 30
    text = drawn.decode("utf-8", "replace")
    assert "ingest eml" in text
    assert "30/30" in text  # the total is known up front (one message per .eml file)
    assert "100%" in text
    assert "msg/s" in text
    assert "new=30" in text

    quiet = subprocess.run(
        [_script(), "ingest", "eml", "--quiet", str(tmp_path / "in")],
        capture_output=True,
        env=_env(tmp_path / "home"),
    )
    assert quiet.stderr == b""
