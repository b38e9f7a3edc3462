"""Parser worker processes and the pipe protocol to them.

A worker is ``python -P -m mailatlas_clean._worker``: a fresh interpreter that reads
frames from stdin and writes frames to stdout. A frame is an 8-byte little-endian
length and a pickle. The first frame carries the :class:`ParserConfig`; every later
frame is one chunk of messages, answered by one frame of outcomes, in order.

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
from collections import deque
from typing import IO, Any

__all__ = ["WorkerDied", "WorkerProcess", "main"]

_HEADER = 8
_READ_SIZE = 1 << 20
_READY = "ready"  # the worker's first frame: the parser is imported, requests welcome

# How a worker is started: ``sys.executable`` with these arguments (``-P``: the current
# directory is not put on the module path).
WORKER_ARGS = ["-P", "-m", "mailatlas_clean._worker"]


def _frame(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(_HEADER, "little") + payload


# -- the worker's side -----------------------------------------------------------------


def _read_frame(stream: IO[bytes]) -> Any:
    """The next object from ``stream``, or ``None`` at end of input."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "little")
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)  # frames come only from our own parent process


def main() -> None:
    """Serve parse requests on stdin/stdout until stdin closes."""
    from ._lifeline import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must never corrupt the protocol
    config = _read_frame(requests)
    if config is None:
        return
    from ._pool import _parse_chunk

    replies.write(_frame(_READY))
    replies.flush()
    while (items := _read_frame(requests)) is not None:
        replies.write(_frame(_parse_chunk(items, config)))
        replies.flush()


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

    def __init__(self, config: object) -> None:
        # The worker needs no MailAtlas setting, and credentials stay in this process.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILATLAS_")}
        # The same import path as this process (a source checkout, a test's sys.path).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.pathsep not in p)
        self.proc = subprocess.Popen(
            [sys.executable, *WORKER_ARGS],
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
        self._out = bytearray(_frame(config))
        self._in = bytearray()
        self.pending: deque[object] = deque()  # a token per request not yet answered
        self.alive = True
        self.ready = False  # it has started and imported the parser

    @property
    def wants_write(self) -> bool:
        return self.alive and bool(self._out)

    def send(self, items: object, token: object) -> None:
        """Queue one request; its reply is returned by :meth:`pump` with ``token``."""
        self._out += _frame(items)
        self.pending.append(token)

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
            if not self.ready:
                self.ready = reply == _READY
                continue
            out.append((self.pending.popleft(), reply))
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
