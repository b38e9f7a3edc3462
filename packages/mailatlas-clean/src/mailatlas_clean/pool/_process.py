"""The caller's side of a worker process: start it, feed it, read it, stop it.

Both pipes are non-blocking and only the caller's own thread moves bytes, between
its other work (see ``_pool``); the protocol is in ``_protocol``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ._protocol import READ_SIZE, READING, READY, Frames, Piece, dump

__all__ = ["EXTRACTOR_ARGS", "WORKER_ARGS", "WorkerDied", "WorkerProcess"]

# How a worker is started: ``sys.executable`` with these arguments (``-P``: the current
# directory is not put on the module path).
WORKER_ARGS = ["-P", "-m", "mailatlas_clean.pool._main"]
EXTRACTOR_ARGS = ["-P", "-m", "mailatlas_clean.pool._extractor"]  # the same, for extract mode


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

    def __init__(
        self, config: object, readers: Mapping[str, str], args: list[str] | None = None
    ) -> None:
        """Start the worker and queue its first frame: ``config`` and ``readers`` (the
        caller's registered attachment readers, ``registered_readers()``, so that the
        worker reads attachments with the same ones)."""
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
        # What is still to be written: frames, a large message's as views of its bytes,
        # and after a request's last frame the call to make once it is written.
        self._out: deque[Piece | Callable[[], None]] = deque()
        self._sent = 0  # bytes of ``_out[0]`` written already
        self._in = Frames()
        dump((config, dict(readers)), self._out.append)
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

    def send(
        self,
        items: list[Any],
        token: object,
        budgets: list[float],
        written: Callable[[], None] | None = None,
    ) -> None:
        """Queue one request of ``len(items)`` messages; :meth:`pump` returns one
        ``(token, outcome)`` per message, in order. ``budgets``: seconds each may take.
        ``written`` is called (by :meth:`pump`) once the whole request is in the pipe:
        this process then holds none of it."""
        if not self.pending:
            self.since = time.monotonic()
        # Queued only once pickled whole: a request interrupted while it is pickled
        # (Ctrl-C, MemoryError) must leave none of its frames behind, or the worker reads
        # them and the next request's as one pickle, whose memo then names wrong objects.
        pieces: list[Piece] = []
        dump(items, pieces.append)
        self._out.extend(pieces)
        del pieces
        if written is not None:
            self._out.append(written)
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
                head = self._out[0]
                if callable(head):  # the request before it is written (never raises)
                    self._out.popleft()
                    head()
                    continue
                with memoryview(head) as piece:
                    self._sent += os.write(self.write_fd, piece[self._sent :])
                    if self._sent == len(piece):
                        self._out.popleft()
                        self._sent = 0
                del head
        except BlockingIOError:
            pass
        except OSError:  # EPIPE: the worker is gone
            gone = True
        arrived: list[Any] = []
        while not gone:
            try:
                data = os.read(self.read_fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                gone = True
                break
            if not data:
                gone = True
                break
            arrived += self._in.feed(data)  # unpickled as each one is complete
            if self._in.broken is not None:
                # A reply that cannot be read: as if the worker had died there (its
                # messages from that one on are retried), never a reply matched to
                # the wrong message.
                gone = True
                break
        replies = self._replies(arrived)
        deadline = self.deadline()
        if not gone and deadline is not None and time.monotonic() > deadline:
            self.timed_out = gone = True
        if gone:
            self.close(kill=True)
            if not replies:
                raise WorkerDied
        return replies

    def _replies(self, arrived: list[Any]) -> list[tuple[object, Any]]:
        out = []
        for reply in arrived:
            if type(reply) is tuple and reply[0] == READING:  # the message goes on, its clock too
                self.reading = reply[1]
                continue
            self.reading = None
            self.since = time.monotonic()  # its next message starts now (or later)
            if not self.ready:
                self.ready = reply == READY
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
