"""Parser worker processes and the pipe protocol to them.

A worker is ``python -P -m mailatlas_clean.pool._worker``: a fresh interpreter that reads
frames from stdin and writes frames to stdout. A frame is an 8-byte little-endian
length and a pickle. The first frame carries the :class:`ParserConfig`; every later
frame is one chunk of messages, answered by one frame *per message*, in order, so the
caller knows which message a worker is on and how long it has been on it (a message
that overruns its time budget gets its worker killed; see ``_pool``). Before reading
each attachment of a message, the worker also sends ``(READING, index)``, so a worker
that dies in an attachment reader costs that file only. The same program serves as the
extractor process (``_extractor``: one attachment per item; ``_attachments._sandbox``).

The worker moves bytes with ``os.read``/``os.write`` loops on private copies of its
pipe descriptors. A worker stopped (SIGSTOP, Ctrl-Z, a profiler attaching) while blocked
writing a reply has that ``write()`` end early with a partial count; under
``PYTHONUNBUFFERED`` ``sys.stdout.buffer`` is the raw file, whose ``write`` returns that
count, and the old worker ignored it: the rest of the frame was lost and the caller
failed to unpickle the stream (tests/clean/test_pool_bounds.py and
tests/integration/test_sync_stopped.py reproduce it). Descriptors 0 and 1 are pointed
away from the pipes, so a stray write by any library cannot corrupt the protocol either.

Why not ``multiprocessing``: its workers import the caller's ``__main__`` module, so
a user's script without an ``if __name__ == "__main__"`` guard would run again inside
every worker (and here, ingest into the store from there). Its result and feeder
threads also unpickle and pickle in threads of their own, whose allocations land in
separate malloc arenas that grow with a long run. This process starts nothing but the
parser, and the caller moves every byte in its own thread (:class:`WorkerProcess`).

A worker dies with the process that started it (``PR_SET_PDEATHSIG``), ignores Ctrl-C
(the caller decides when to stop), and exits when its stdin closes. Its stderr is
discarded: a worker that crashes costs its messages a retry (see ``_pool``), never a
traceback on the user's terminal.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections import deque
from typing import Any

__all__ = ["EXTRACT_MODE", "READING", "WorkerDied", "WorkerProcess", "main"]

_HEADER = 8
_READ_SIZE = 1 << 20
_READY = "ready"  # the worker's first frame: the parser is imported, requests welcome
# The config that starts a worker in extract mode (one attachment per item, see
# _attachments._sandbox); any other config is a ParserConfig (one message per item).
EXTRACT_MODE = "extract"

# How a worker is started: ``sys.executable`` with these arguments (``-P``: the current
# directory is not put on the module path).
WORKER_ARGS = ["-P", "-m", "mailatlas_clean.pool._worker"]
EXTRACTOR_ARGS = ["-P", "-m", "mailatlas_clean.pool._extractor"]  # the same, for extract mode


# A parse worker's note between two replies, ``(READING, index)``: "now reading
# attachment ``index`` of the message I am on". If the worker dies before its next
# reply, that file's reader is to blame (see ``_pool``). A tuple, not a class: this
# module runs as ``__main__`` in the worker, whose classes the caller cannot unpickle.
READING = "reading"


def _frame(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(_HEADER, "little") + payload


# -- the worker's side -----------------------------------------------------------------


def _read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or ``None`` at end of input."""
    parts: list[bytes] = []
    left = size
    while left:
        data = os.read(fd, min(left, _READ_SIZE))
        if not data:
            return None
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _read_frame(fd: int) -> Any:
    """The next object from ``fd``, or ``None`` at end of input."""
    header = _read_exact(fd, _HEADER)
    if header is None:
        return None
    payload = _read_exact(fd, int.from_bytes(header, "little"))
    if payload is None:
        return None
    return pickle.loads(payload)  # frames come only from our own parent process


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:_READ_SIZE])
        view = view[written:]


def _private_pipes() -> tuple[int, int]:
    """Own copies of the request and reply pipes; fds 0 and 1 then lead nowhere."""
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    return requests, replies


def main() -> None:
    """Serve parse (or, in extract mode, attachment) requests until stdin closes."""
    from ._lifeline import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, replies = _private_pipes()
    sys.stdout = sys.stderr  # a stray print() must never corrupt the protocol
    first = _read_frame(requests)
    if first is None:
        return
    config, readers = first
    from ..attachments._readers import install_readers

    install_readers(readers)  # the readers the application registered (register_reader)
    if config == EXTRACT_MODE:
        _serve_extract(requests, replies)
        return
    from ._pool import load_parser, parse_item

    load_parser()  # before "ready": the caller's clock for each message starts there
    _write_all(replies, _frame(_READY))

    def reading(index: int) -> None:
        _write_all(replies, _frame((READING, index)))

    while (items := _read_frame(requests)) is not None:
        for item in items:
            _write_all(replies, _frame(parse_item(item, config, reading)))


def _serve_extract(requests: int, replies: int) -> None:
    """Read one attachment per item: ``(data, kind, limits, seconds)`` -> ``AssetText``."""
    from ..attachments import read_kind

    _write_all(replies, _frame(_READY))
    while (items := _read_frame(requests)) is not None:
        for data, kind, limits, seconds in items:
            _write_all(replies, _frame(read_kind(data, kind, limits, seconds)))


# -- the caller's side -----------------------------------------------------------------

PIPE_SIZE = 1 << 20


def _grow_pipe(fd: int) -> None:
    """Give the pipe room for several chunks (64 KB is a third of one, Linux only).

    Only the caller's own thread moves bytes, between other work; with a 64 KB pipe a
    worker would starve waiting for the rest of its next request.
    """
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except (ImportError, OSError):
        pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default still works


class WorkerDied(Exception):
    """The worker process exited (crashed, was killed) before answering."""


class WorkerProcess:
    """One worker process; requests and replies are moved by :meth:`pump`, never blocking.

    Both pipes are non-blocking, so a large request never waits on a worker that is
    itself waiting for its reply to be read (the classic two-pipe deadlock).
    """

    def __init__(self, config: object, args: list[str] | None = None) -> None:
        # The worker needs no MailAtlas setting, and credentials stay in this process.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILATLAS_")}
        # The same import path as this process (a source checkout, a test's sys.path).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.pathsep not in p)
        self.proc = subprocess.Popen(
            [sys.executable, *(WORKER_ARGS if args is None else args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.write_fd = self.proc.stdin.fileno()
        self.read_fd = self.proc.stdout.fileno()
        os.set_blocking(self.write_fd, False)
        os.set_blocking(self.read_fd, False)
        _grow_pipe(self.write_fd)
        _grow_pipe(self.read_fd)
        from ..attachments._readers import registered_readers

        self._out = bytearray(_frame((config, registered_readers())))
        self._in = bytearray()
        self.pending: deque[object] = deque()  # a token per request not yet fully answered
        # Per pending request, the time budget of each message not yet answered.
        self._budgets: deque[deque[float]] = deque()
        self.since = time.monotonic()  # when the worker started its current message
        self.alive = True
        self.ready = False  # it has started and imported the parser
        self.timed_out = False  # it was killed for overrunning a message's budget
        self.reading: int | None = None  # the attachment its current message is on

    @property
    def wants_write(self) -> bool:
        return self.alive and bool(self._out)

    def send(self, items: list[Any], token: object, budgets: list[float]) -> None:
        """Queue one request of ``len(items)`` messages; :meth:`pump` returns one
        ``(token, outcome)`` per message, in order. ``budgets``: seconds each may take."""
        if not self.pending:
            self.since = time.monotonic()
        self._out += _frame(items)
        self.pending.append(token)
        self._budgets.append(deque(budgets))

    def deadline(self) -> float | None:
        """When the message the worker is on runs out of time (monotonic), if it is busy."""
        if not self._budgets or not self.ready:
            return None
        return self.since + self._budgets[0][0]

    def pump(self) -> list[tuple[object, Any]]:
        """Write what the pipe takes, read what has arrived; ``(token, reply)`` pairs.

        Raises :class:`WorkerDied` once the process is gone and every reply it sent
        has been returned; its unanswered tokens are still in :attr:`pending`.
        """
        if not self.alive:
            raise WorkerDied
        gone = False
        try:
            while self._out:
                written = os.write(self.write_fd, self._out[:_READ_SIZE])
                del self._out[:written]
        except BlockingIOError:
            pass
        except OSError:  # EPIPE: the worker is gone
            gone = True
        while not gone:
            try:
                data = os.read(self.read_fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                gone = True
                break
            if not data:
                gone = True
                break
            self._in += data
        replies = self._frames()
        deadline = self.deadline()
        if not gone and deadline is not None and time.monotonic() > deadline:
            self.timed_out = gone = True
        if gone:
            self.close(kill=True)
            if not replies:
                raise WorkerDied
        return replies

    def _frames(self) -> list[tuple[object, Any]]:
        out = []
        buf = self._in
        while len(buf) >= _HEADER:
            size = int.from_bytes(buf[:_HEADER], "little")
            if len(buf) < _HEADER + size:
                break
            reply = pickle.loads(bytes(buf[_HEADER : _HEADER + size]))  # our own worker
            del buf[: _HEADER + size]
            if type(reply) is tuple and reply[0] == READING:  # the message goes on, its clock too
                self.reading = reply[1]
                continue
            self.reading = None
            self.since = time.monotonic()  # its next message starts now (or later)
            if not self.ready:
                self.ready = reply == _READY
                continue
            out.append((self.pending[0], reply))
            budgets = self._budgets[0]
            budgets.popleft()
            if not budgets:
                self._budgets.popleft()
                self.pending.popleft()
        return out

    def close(self, *, kill: bool = False) -> None:
        """Stop the process: end its input (it exits when idle), or kill it."""
        if not self.alive and self.proc.returncode is not None:
            return
        self.alive = False
        if kill:
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    main()
