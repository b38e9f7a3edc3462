"""Attachments are read in a process of their own, never in the one that stores them.

A reader is third-party code over hostile bytes (pypdf, openpyxl, python-docx, lxml, or
a reader registered with ``register_reader``). A hard crash in it (a segfault in native
code, an abort, ``os._exit``, the OOM killer) ends the process it runs in, whatever
Python does, so where that happens decides what it costs:

* A parser worker (``_main``) reads a message's attachments inline, and before each
  one tells its caller which (``_protocol.READING``). If the worker
  dies there, the pool parses the message again in a fresh worker with that file marked
  ``failed`` (:func:`reading_inline` carries the marks; see ``_pool``).
* Anywhere else (a message parsed in the calling process: a short run, ``workers=0``,
  ``parse_bytes``; ``extract_text``/``extract_file``; the ``attachment-text``
  backfill) each file goes to one extractor process (:class:`Extractor`, the same
  program in extract mode), kept for the life of this process. If it dies on a file,
  that file is ``failed`` and the next file gets a fresh process.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from mailatlas_core import AssetText

from .._config import ExtractLimits
from ..parser._deadline import budget_paused
from ..pool._process import EXTRACTOR_ARGS, WorkerDied, WorkerProcess
from ..pool._protocol import EXTRACT_MODE
from ._readers import registered_readers

__all__ = [
    "EVERY",
    "EXTRACTOR",
    "MAX_READER_CRASHES",
    "Extractor",
    "Inline",
    "crash_cause",
    "gave_up",
    "inline",
    "reading_inline",
    "thread_ended",
]

# A key of ``Inline.not_read``: every file not read yet (after too many crashes).
EVERY = -1
# After this many of a message's files killed the process reading them, its other files
# are not read (each death costs a process start; a message may have 10,000 parts).
MAX_READER_CRASHES = 3
# How long past a file's own budget its process is killed: the budget stops Python code
# inside that process; this stops native code that never returns.
GRACE_S = 5.0
# A process that is not ready after this long (a wedged start) is given up on.
START_S = 120.0
START_TRIES = 2


@dataclass(frozen=True, slots=True)
class Inline:
    """How the files of the message being parsed are read.

    ``started``: this process is a sandbox (a parser worker): files are read here, and
    ``started(index)`` is called before asset ``index`` is; ``None``: through the
    :class:`Extractor`. ``not_read`` maps an asset index (or :data:`EVERY`) to why it
    must not be read (its reader killed an earlier attempt at this message).
    """

    started: Callable[[int], None] | None
    not_read: Mapping[int, str] = field(default_factory=dict)


_inline: ContextVar[Inline | None] = ContextVar("mailatlas_inline", default=None)


def inline() -> Inline:
    """How files are read in this context (by default: through the extractor process)."""
    return _inline.get() or _EXTRACTED


@contextmanager
def reading_inline(
    started: Callable[[int], None] | None, not_read: Mapping[int, str]
) -> Iterator[None]:
    """Within the block, read files here announcing each to ``started`` (a parser worker
    only), or with ``started=None`` through the extractor; never those in ``not_read``."""
    token = _inline.set(Inline(started, not_read))
    try:
        yield
    finally:
        _inline.reset(token)


def gave_up(crashes: int) -> str:
    """Why a file was not read: ``crashes`` other files of its message crashed readers."""
    return f"was not run: readers crashed on {crashes} other files of this message"


def thread_ended(thread: threading.Thread) -> bool:
    """Whether ``thread`` has ended, as seen once the kernel has ended it.

    Not ``thread.is_alive()``: on Python 3.11 and 3.12 that answers True for a thread
    that has ended while another thread is inside ``join()`` on it (the joiner holds
    the thread's lock for a moment, and ``is_alive`` reads a held lock as a live
    thread). A thread leaves ``threading.enumerate()`` in its own last Python step,
    before its OS thread exits, so once its process was killed for its end (that
    happens after the OS thread exits) this answer is already right.
    """
    return thread not in threading.enumerate()


def crash_cause(returncode: int | None) -> str:
    """How a process ended, for a person: ``SIGSEGV``, ``exit status 3``."""
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


class Extractor:
    """One extractor process, started on first use and replaced when it dies.

    :meth:`extract` is thread-safe (one file at a time). A process forked from this one
    starts its own.
    """

    def __init__(self) -> None:
        self._proc: WorkerProcess | None = None
        self._owner = 0  # the pid that started _proc
        # The thread that started _proc: the process dies with it (PR_SET_PDEATHSIG fires
        # when the starting thread ends), which is no fault of the file being read then.
        self._starter: threading.Thread | None = None
        self._readers: dict[str, str] = {}  # the registered readers _proc was sent
        self.deaths = 0  # files whose reader killed the process (crashed or overran)
        self._lock = threading.Lock()

    def extract(self, data: bytes, kind: str, limits: ExtractLimits, seconds: float,
                label: str) -> AssetText:  # fmt: skip
        """The text of one file of ``kind``, read in the extractor process."""
        with self._lock:
            for _try in range(START_TRIES):
                try:
                    proc, starter = self._running(), self._starter
                except OSError as exc:  # fork refused: no memory, process limit
                    return AssetText("skipped", error=f"no process to read it ({exc})")
                try:
                    if not proc.ready:
                        # Its start is not the file's time (its budget starts at READY)
                        # nor the message's: a slow start must not fail the message.
                        with budget_paused():
                            self._wait_ready(proc)
                    proc.send([(data, kind, limits, seconds)], None, [seconds + GRACE_S])
                    reply = self._answer(proc)
                except WorkerDied:
                    self._proc = None
                    if not proc.ready or (starter is not None and thread_ended(starter)):
                        continue  # it died starting, or with its thread: not this file's doing
                    self.deaths += 1
                    why = (
                        f"did not stop within its {seconds:g} s budget; its process was killed"
                        if proc.timed_out
                        else f"crashed its process ({crash_cause(proc.proc.returncode)})"
                    )
                    return AssetText("failed", error=f"the {label} reader {why}")
                except BaseException:  # an alarm or Ctrl-C here: the process is mid-file
                    self._proc = None
                    proc.close(kill=True)
                    raise
                assert isinstance(reply, AssetText)
                return reply
            return AssetText("skipped", error="the process that reads attachments did not start")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and self._owner == os.getpid():
            proc.close(kill=bool(proc.pending))

    def _running(self) -> WorkerProcess:
        proc = self._proc
        readers = registered_readers()
        if proc is not None and self._owner == os.getpid() and readers != self._readers:
            proc.close()  # readers were registered since it started
            proc = self._proc = None
        if proc is not None and (self._owner != os.getpid() or proc.proc.poll() is not None):
            if self._owner == os.getpid():
                proc.close(kill=True)  # died while idle (its parent thread ended)
            proc = None  # in a forked child, the parent's process is not ours to touch
        if proc is None:
            proc = self._proc = WorkerProcess(EXTRACT_MODE, readers, EXTRACTOR_ARGS)
            self._owner, self._readers = os.getpid(), readers
            self._starter = threading.current_thread()
        return proc

    @staticmethod
    def _wait_ready(proc: WorkerProcess) -> None:
        """Until ``proc`` says it is ready; WorkerDied if it dies or takes over START_S."""
        started = time.monotonic()
        while not proc.ready:
            proc.pump()  # nothing was asked yet: no reply can come before READY
            left = START_S - (time.monotonic() - started)
            if proc.ready:
                return
            if left <= 0:
                proc.close(kill=True)
                raise WorkerDied
            poller = select.poll()
            poller.register(proc.read_fd, select.POLLIN)
            if proc.wants_write:
                poller.register(proc.write_fd, select.POLLOUT)
            poller.poll(int(min(left, 1.0) * 1000) + 10)

    @staticmethod
    def _answer(proc: WorkerProcess) -> object:
        started = time.monotonic()
        while True:
            replies = proc.pump()  # raises WorkerDied when it is gone (or overran)
            if replies:
                return replies[0][1]
            if not proc.ready and time.monotonic() - started > START_S:
                proc.close(kill=True)
                proc.ready = False
                raise WorkerDied
            poller = select.poll()
            poller.register(proc.read_fd, select.POLLIN)
            if proc.wants_write:
                poller.register(proc.write_fd, select.POLLOUT)
            deadline = proc.deadline()
            wait = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            poller.poll(int(wait * 1000) + 10)


_EXTRACTED = Inline(None)
EXTRACTOR = Extractor()
atexit.register(EXTRACTOR.close)
