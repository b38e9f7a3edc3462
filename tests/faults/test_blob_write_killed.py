"""A writer killed between writing a blob and naming it leaves nothing behind.

A new blob is written to an unnamed file (``O_TMPFILE``) and linked in under its key
only once complete. The child below stops right before that link and says so; the test
checks that the whole blob exists then only as an open, nameless file of the child, kills
it with SIGKILL, and checks that nothing at all is left under any name (no final name,
no temp file to sweep), and that the next writer stores the blob whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_core._blobs import LocalBlobStore

SIZE = 3_000_000
KEY = "raw/" + "ab" * 32 + ".eml"

CHILD = """
import os, sys
from pathlib import Path
from mailatlas_core._blobs import LocalBlobStore

real_link = os.link

def paused_link(src, dst, **kwargs):
    fd = int(src.rsplit("/", 1)[1])
    print(f"linking {fd}", flush=True)
    sys.stdin.readline()  # held here until the test kills this process
    return real_link(src, dst, **kwargs)

os.link = paused_link
blobs = LocalBlobStore(Path(sys.argv[1]))
blobs.prepare()
blobs.put(sys.argv[2], b"m" * int(sys.argv[3]))
print("not linked", flush=True)  # written some other way
"""


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir()]


def _has_o_tmpfile(directory: Path) -> bool:
    try:
        os.close(os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True


def test_a_writer_killed_before_the_link_leaves_nothing(tmp_path: Path) -> None:
    if not _has_o_tmpfile(tmp_path):
        pytest.skip("this file system cannot write O_TMPFILE files")
    ws = tmp_path / "ws"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ws), KEY, str(SIZE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""  # progress, not time
        assert line.startswith("linking "), f"the writer never reached the link: {line!r}"
        fd = int(line.split()[1])
        # The whole blob is written and held open by the child, under no name.
        held = os.stat(f"/proc/{child.pid}/fd/{fd}")
        assert held.st_size == SIZE and held.st_nlink == 0
        assert os.readlink(f"/proc/{child.pid}/fd/{fd}").endswith("(deleted)")
        assert _files_under(ws) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        if child.stdin:
            child.stdin.close()
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert _files_under(ws) == []  # no partial blob, no temp file: nothing at all

    blobs = LocalBlobStore(ws)
    blobs.prepare()
    blobs.recover()
    blobs.put(KEY, b"m" * SIZE)
    assert blobs.get(KEY) == b"m" * SIZE
    assert _files_under(ws) == [ws / KEY]
