"""Disk full during ingest, simulated with ``RLIMIT_FSIZE`` in the CLI's process.

Python ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk.
The user must get one clear line on stderr (no traceback) and exit 1; the store must
stay consistent; a rerun with space must complete with every message exactly once.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.mailgen import write_mbox
from tests.hostile.helpers import REPO, assert_consistent, cli_command, cli_env, message_ids

LIMIT = 2_000_000  # bytes per file


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _ingest(
    kind: str, src: Path, home: Path, limit: int | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command("ingest", kind, str(src), "--quiet"),
        capture_output=True,
        text=True,
        env=cli_env(home),
        cwd=REPO,
        timeout=120,
        preexec_fn=_limited(limit) if limit else None,
        check=False,
    )


def _assert_one_clear_line(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert "free space and rerun" in lines[0], stderr


@pytest.mark.slow
def test_workspace_file_past_the_limit(tmp_path: Path) -> None:
    """A message larger than the limit: its raw file cannot be written."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        (src / f"{i}.eml").write_bytes(
            f"From: a@example.com\nSubject: small {i}\nMessage-ID: <s{i}@x>\n\nhi {i}\n".encode()
        )
    pad = b"x" * 76 + b"\n"
    (src / "9-big.eml").write_bytes(
        b"From: a@example.com\nSubject: big\nMessage-ID: <big@x>\n\n" + pad * 40_000
    )
    home = tmp_path / "home"
    db, ws = home / "store.db", home / "workspace"

    full = _ingest("eml", src, home, LIMIT)

    assert full.returncode == 1
    _assert_one_clear_line(full.stderr)
    assert "disk full or file-size limit reached" in full.stderr
    assert assert_consistent(db, ws) <= 5
    assert not [p for p in ws.rglob("*.tmp")]  # no half-written file left behind

    rerun = _ingest("eml", src, home, None)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["ingested_count"] + summary["duplicate_count"] == 6
    assert assert_consistent(db, ws) == 6
    assert len(set(message_ids(db))) == 6


@pytest.mark.slow
def test_database_past_the_limit(tmp_path: Path) -> None:
    """Many small messages: the database (its WAL) is the file that hits the limit."""
    mbox = tmp_path / "mail.mbox"
    write_mbox(mbox, 1500, seed=3)
    home = tmp_path / "home"
    db, ws = home / "store.db", home / "workspace"

    full = _ingest("mbox", mbox, home, LIMIT)

    assert full.returncode == 1
    _assert_one_clear_line(full.stderr)
    stored = assert_consistent(db, ws)
    assert stored < 1500

    rerun = _ingest("mbox", mbox, home, None)
    assert rerun.returncode == 0, rerun.stderr
    assert assert_consistent(db, ws) == 1500
    assert len(set(message_ids(db))) == 1500


def test_rlimit_really_limits_writes(tmp_path: Path) -> None:
    """The fault is real: a child under the limit gets EFBIG, not a signal."""
    target = tmp_path / "f"
    code = (
        "import os, errno\n"
        f"fd = os.open({str(target)!r}, os.O_WRONLY | os.O_CREAT)\n"
        "try:\n    os.write(fd, b'x' * 3_000_000)\n"
        "    os.write(fd, b'x')\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])\n"
    )
    done = subprocess.run(
        [*cli_command()[:1], "-c", code],
        capture_output=True,
        text=True,
        preexec_fn=_limited(LIMIT),
        check=False,
    )
    assert done.stdout.strip() == "EFBIG", done
    assert os.path.getsize(target) == LIMIT
