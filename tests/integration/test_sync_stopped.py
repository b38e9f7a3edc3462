"""A sync stopped and resumed (Ctrl-Z then ``fg``) while its parse worker writes a reply.

Each round stops the syncing process alone, so nothing drains the replies, and waits for
/proc to show its worker either blocked writing a reply (each is larger than the pipe)
or asleep waiting for a request. A worker caught writing has the whole process group
(the syncing process and its worker) stopped and resumed:
the worker's interrupted write() returns a partial count, and the syncing process's own
reads and downloads are interrupted too. The sync must finish as if nothing happened.
Before the fix, under ``PYTHONUNBUFFERED`` the worker dropped the rest of the reply
and the sync died with ``UnicodeDecodeError`` / ``UnpicklingError`` and no summary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer
from tests.hostile.helpers import committed_documents

from .conftest import Mailbox, message

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

SAFETY_TIMEOUT = 300
COUNT = 24

# The library's sync with one parse worker (the CLI starts one from 1,000 messages on);
# the summary goes to stdout as JSON.
SYNC = """
import json, os, sys
from mailatlas_core import open_store
from mailatlas_imap import ImapSyncConfig, sync_imap
e = os.environ
store = open_store(sys.argv[1], sys.argv[2])
config = ImapSyncConfig(
    host="127.0.0.1", port=int(e["T_PORT"]), username=e["T_USER"], password=e["T_PASSWORD"],
    ca_file=e["T_CA"], batch_size=4, parse_workers=1,
)
print(json.dumps(sync_imap(store, config).to_dict()))
"""


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _parse_worker(pid: int) -> int | None:
    """The sync's parse worker (not the attachment extractor, should one be running)."""
    for child in _children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                if b"mailatlas_clean.pool._main" in fh.read():
                    return child
        except OSError:  # it has exited
            continue
    return None


def _wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as fh:
            return fh.read()
    except OSError:  # it has exited
        return ""


def _state(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return b"X"


@pytest.mark.timeout(SAFETY_TIMEOUT + 60)
def test_a_sync_stopped_and_resumed_while_its_worker_writes_finishes_whole(
    dovecot: DovecotServer, mailbox: Mailbox, tmp_path: Path
) -> None:
    # ~1.2 MB of text each: always parsed by the worker (the syncing process helps
    # only with small messages), and each reply is larger than the 1 MB pipe.
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n" * 21_000
    raws = [message(i, tag="stopped", body=body) for i in range(COUNT)]
    dovecot.fill_maildir(mailbox.user, "INBOX", raws)
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",  # as in many containers: the old worker's writes were raw
        "T_PORT": str(dovecot.imaps_port),
        "T_USER": mailbox.user,
        "T_PASSWORD": mailbox.password,
        "T_CA": str(dovecot.cert_path),
    }
    db = tmp_path / "store.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", SYNC, str(db), str(tmp_path / "ws")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, as a shell job has
    )
    stops = 0
    deadline = time.monotonic() + SAFETY_TIMEOUT  # safety net only; progress drives it
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            worker = _parse_worker(proc.pid)
            if worker is None:
                os.sched_yield()
                continue
            # The syncing process alone is stopped first, so nothing reads the replies:
            # a worker that is parsing then blocks writing its reply (each is larger than
            # the pipe), on any machine, however fast the syncing process drains it.
            os.kill(proc.pid, signal.SIGSTOP)
            while _state(proc.pid) not in (b"T", b"X", b"Z"):
                os.sched_yield()
            while _state(worker) in (b"R", b"D"):
                os.sched_yield()  # parsing, or its request is still on the way
            if "pipe_write" not in _wchan(worker):
                # Asleep for a request (or the rest of one): let the syncing process send it.
                os.kill(proc.pid, signal.SIGCONT)
                while "pipe_read" in _wchan(worker) and proc.poll() is None:
                    os.sched_yield()
                continue
            os.killpg(proc.pid, signal.SIGSTOP)  # Ctrl-Z: the whole job
            while _state(worker) not in (b"T", b"X", b"Z"):
                os.sched_yield()
            os.killpg(proc.pid, signal.SIGCONT)  # fg
            stops += 1
            # Next stop only once that write has moved on (the caller read some of it).
            while "pipe_write" in _wchan(worker) and proc.poll() is None:
                os.sched_yield()
        stdout, stderr = proc.communicate(timeout=SAFETY_TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert stderr == b""
    summary = json.loads(stdout)
    assert (summary["status"], summary["ingested_count"]) == ("ok", COUNT), summary
    assert committed_documents(db) == COUNT
    assert stops >= 3, f"the worker was caught writing only {stops} times"
