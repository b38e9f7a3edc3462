"""Parse many messages on every core, results in input order.

Parsing is the CPU-heavy step of both ingest and IMAP sync. :func:`parse_many` runs it
in worker processes while the caller's process keeps reading, fetching and writing,
and yields results *in input order*, so callers can commit batches and advance IMAP
cursors exactly as if they had parsed inline.

* Small jobs never pay for processes: until ``inline_below`` messages have been seen,
  nothing is started, and a run that ends before that parses in-process.
* Both cores work: a worker parses while the caller stores; when the caller would
  wait for a worker, it parses the next waiting chunk itself (small messages only).
* Memory stays bounded: a bounded number of chunks and of bytes are in flight.
* The raw bytes are not sent back from the workers (this process still has them). A
  large message's raw bytes wait on disk while a worker parses it (:data:`SPILL_BYTES`),
  so its document does not arrive beside them: see :class:`_Chunk`.
* A worker that dies (a crash in a C extension, the OOM killer) costs only the
  messages it was holding: they are retried one by one in a fresh worker, and a
  message that kills a worker again is reported as failed. A worker that dies while
  reading an attachment (it says which before each one) costs that file only: the
  message is parsed again without reading it, and the file's text says why
  (``attachments._sandbox``).
* Every message has a time budget (:class:`ParseLimits`): a worker that overruns it is
  killed, that message is reported as failed, and the rest go on in a fresh worker.
  Messages above the size limit are never parsed. This process parses only small
  messages itself, under the same budget (see ``_deadline``), and only where that
  budget can be enforced (the main thread, no SIGALRM handler of the application's):
  elsewhere, even a short run or a ``workers=0`` pool parses in a worker process.
* Workers are plain child processes (``_process``, ``_main``), not ``multiprocessing`` ones: a
  user's script without a ``__main__`` guard is never re-run inside them.
"""

from __future__ import annotations

import logging
import os
import select
import tempfile
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from itertools import chain
from typing import IO, Any, Generic, TypeVar

from mailatlas_core import ParsedDocument, StoreError
from mailatlas_core._heap import pin_mmap_threshold

from .._config import ParseLimits, ParserConfig
from ..parser._deadline import budget_enforceable
from ._jobs import Outcome, ParseFailure, ParseJob, parse_one
from ._process import WorkerDied, WorkerProcess

__all__ = ["ParseBatch", "ParseFailure", "ParseJob", "ParsePool", "default_workers", "parse_many"]

T = TypeVar("T")

HELP_AHEAD_CHUNKS = 8  # chunks parse_many queues beyond what the workers hold
AHEAD_BYTES = 64 * 1024 * 1024  # raw bytes parse_many reads ahead, at most
CHUNK_BYTES = 8 * 1024 * 1024  # a chunk of parse_many's holds at most this (or one message)


def default_workers() -> int:
    """One worker per usable core but one: the calling process reads and stores.

    Measured on 2 cores: one worker next to the caller beats two (which fight the
    caller for its core); see docs/performance.md.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


# Messages a worker holds at once (16 chunks of 32 by default): enough that a worker
# never runs dry while the caller stores or downloads a batch of 500 between two calls.
IN_FLIGHT_CHUNKS_PER_WORKER = 16
# ...and never more raw bytes than this per worker (mailboxes full of large attachments).
IN_FLIGHT_BYTES_PER_WORKER = 32 * 1024 * 1024
# The calling process helps only with messages up to this size: large ones (the memory
# hogs, and the likeliest to trip a crash in a C extension) are always parsed in a worker,
# where a crash or the OOM killer costs only that message.
HELP_MAX_BYTES = 256 * 1024
# After reading a worker's replies, how long this process waits for more from it before
# it parses a chunk itself (see ParsePool._sending): a worker blocked on a full pipe
# sends again within microseconds of the read; one that is parsing, not for a while.
SENDING_WAIT_MS = 2
# A message of at least this many bytes waits on disk while a worker parses it (see
# _Chunk.spill). Smaller ones stay in memory: a file write and read is not worth it.
SPILL_BYTES = 1024 * 1024
# Workers that die before they are ready (a broken install, no processes left): after
# this many, the pool parses in the calling process instead of starting more.
MAX_START_FAILURES = 2

log = logging.getLogger("mailatlas_clean")


class _Chunk:
    """Consecutive jobs of one batch that are parsed together (in a worker or here).

    A chunk is waiting (in the pool's queue), in flight (``worker`` set), ``crashed``
    (its worker died before answering) or ``done``. ``outcomes`` holds the answers so
    far, in order: a chunk whose worker was killed for overrunning a message's budget
    goes back to the queue for the jobs after that message.

    The chunk is the only holder of its jobs in the pool (its callers hand them over,
    see ``parse_many``). Once a request is in a worker's pipe, each of its messages of
    :data:`SPILL_BYTES` or more is written to an unnamed temporary file and its job
    holds no bytes (:meth:`spill`); they are read back when its answer comes, or when
    the job is sent again. So while its document arrives (a pickle about the size of
    its text, HTML and attachments, then the objects made from it), the message's raw
    bytes are not in memory too: 1x its size less at that peak.
    """

    __slots__ = (
        "crashed",
        "done",
        "jobs",
        "nbytes",
        "not_read",
        "outcomes",
        "small",
        "spilled",
        "started_ok",
        "worker",
    )

    def __init__(
        self, jobs: list[ParseJob[Any]], not_read: dict[int, dict[int, str]] | None = None
    ) -> None:
        self.jobs = jobs
        # Per job (index in jobs): attachments not to read, and why (see _lost).
        self.not_read: dict[int, dict[int, str]] = not_read or {}
        self.nbytes = sum(len(j.raw) for j in jobs)
        self.small = all(len(j.raw) <= HELP_MAX_BYTES for j in jobs)
        self.worker: WorkerProcess | None = None
        self.crashed = False
        self.started_ok = True  # whether the worker that crashed on it had started
        self.outcomes: list[Outcome] = []
        self.done: list[Outcome] | None = None
        self.spilled: dict[int, IO[bytes]] = {}  # per job (index): the file of its bytes

    @property
    def left(self) -> list[ParseJob[Any]]:
        """The jobs not answered yet (with their bytes: any on disk are read back)."""
        return [self._job(i) for i in range(len(self.outcomes), len(self.jobs))]

    def spill(self, first: int) -> None:
        """The request for ``jobs[first:]`` is in a worker's pipe: each large message
        of it not answered yet waits on disk. Where no file can be written (a full
        disk), it stays in memory."""
        for i in range(max(first, len(self.outcomes)), len(self.jobs)):
            job = self.jobs[i]
            if len(job.raw) < SPILL_BYTES or i in self.spilled:
                continue
            try:
                # Unnamed (O_TMPFILE), gone when closed: by _job, when the bytes are read
                # back, or with the chunk. It outlives this call: no ``with``.
                file = tempfile.TemporaryFile()  # noqa: SIM115
            except OSError:
                return
            try:
                file.write(job.raw)
                file.flush()
            except OSError:
                file.close()
                return
            self.spilled[i] = file
            self.jobs[i] = replace(job, raw=b"")

    def _job(self, i: int) -> ParseJob[Any]:
        """Job ``i``, its bytes read back if they were on disk.

        Raises:
            StoreError: they cannot be read back (the disk failed under the file): the
                run stops there, as on any disk that refuses to work.
        """
        file = self.spilled.get(i)
        if file is None:
            return self.jobs[i]
        try:
            file.seek(0)
            raw = file.read()
        except OSError as exc:  # the file stays: nothing of the message is let go
            raise StoreError(
                f"cannot read back a message kept in a temporary file while it was parsed: "
                f"{exc.strerror or exc}"
            ) from exc
        del self.spilled[i]
        file.close()
        self.jobs[i] = job = replace(self.jobs[i], raw=raw)
        return job

    def items(self) -> list[tuple[bytes, str | None, str | None, dict[int, str]]]:
        """What a worker is sent for the jobs left (see ``parse_item``)."""
        first = len(self.outcomes)
        return [
            (j.raw, j.received_at, j.envelope, self.not_read.get(first + i, {}))
            for i, j in enumerate(self.left)
        ]

    def reader_died(self, index: int, why: str) -> None:
        """The next job's attachment ``index`` killed its worker: don't read it again
        (nor any other of its files, after ``MAX_READER_CRASHES``)."""
        from ..attachments._sandbox import EVERY, MAX_READER_CRASHES, gave_up

        marks = self.not_read.setdefault(len(self.outcomes), {})
        marks[index] = why
        if len(marks) >= MAX_READER_CRASHES:
            marks[EVERY] = gave_up(len(marks))

    def answer(self, outcome: Outcome) -> None:
        job = self._job(len(self.outcomes))
        # The workers do not send the raw bytes back: this process has them. Set in place
        # (the document was just unpickled), not by ``replace``: that reads every field,
        # decoding a deferred metadata (``ParsedDocument.defer_metadata``).
        if isinstance(outcome, ParsedDocument):
            outcome.raw = job.raw
        self.outcomes.append(outcome)
        if len(self.outcomes) == len(self.jobs):
            self.done, self.worker = self.outcomes, None


class ParseBatch(Generic[T]):
    """Jobs handed to :meth:`ParsePool.submit`; pass it back to :meth:`ParsePool.results`.

    It keeps the jobs in order, ``None`` for each one its chunks hold (they hold the
    jobs they parse, and no one else does: see :class:`_Chunk`).
    """

    __slots__ = ("_chunks", "_done", "_jobs")

    def __init__(self, jobs: list[ParseJob[T] | None]) -> None:
        self._jobs = jobs
        self._chunks: list[_Chunk] = []
        self._done: list[Outcome | None] | None = None


class ParsePool:
    """Parse batches of messages in worker processes (or inline with ``workers=0``).

    ``submit`` returns at once; ``results`` answers in job order. Work is cut into
    chunks; each worker holds a bounded number of them, and the rest wait in a queue.
    When ``results`` would block on a chunk a worker is still parsing, this process
    parses the next waiting chunk itself instead of idling, so the caller's spare time
    (between storing and downloading) goes into parsing and both cores stay busy.
    The processes start on the first submit. Use it as a context manager, or ``close()``.
    """

    def __init__(
        self,
        parser_config: ParserConfig | None = None,
        workers: int | None = None,
        *,
        chunk_size: int = 32,
        limits: ParseLimits | None = None,
    ) -> None:
        self.config = parser_config or ParserConfig()
        self.limits = limits or self.config.limits
        self.workers = default_workers() if workers is None else max(0, workers)
        self.chunk_size = max(1, chunk_size)
        self._procs: list[WorkerProcess] = []
        self._waiting: deque[_Chunk] = deque()  # not started, in submit order
        self._start_failures = 0
        self._no_workers = False  # workers cannot start: parse everything here
        self._max_chunks = max(1, self.workers) * IN_FLIGHT_CHUNKS_PER_WORKER
        self._max_bytes = max(1, self.workers) * IN_FLIGHT_BYTES_PER_WORKER

    @property
    def capacity(self) -> int:
        """How many chunks the workers hold at once."""
        return self._max_chunks

    def submit(self, jobs: list[ParseJob[T]]) -> ParseBatch[T]:
        """Queue ``jobs`` for parsing (inline pools parse right here)."""
        to_parse = [j for j in jobs if j.parse and self.limits.refusal(len(j.raw)) is None]
        if not to_parse or (self.workers == 0 and budget_enforceable()):
            batch = ParseBatch[T](list(jobs))
            batch._done = [parse_one(j, self.config, self.limits) for j in jobs]
            return batch
        if self.workers == 0:
            # This thread cannot stop a parse that overruns its budget: a worker can.
            self.workers = 1
        parsed = {id(j) for j in to_parse}
        batch = ParseBatch([None if id(j) in parsed else j for j in jobs])
        size = self.chunk_size
        batch._chunks = [_Chunk(to_parse[i : i + size]) for i in range(0, len(to_parse), size)]
        del to_parse
        self._waiting.extend(batch._chunks)
        self._feed()
        return batch

    def results(self, batch: ParseBatch[T]) -> list[tuple[ParseJob[T], Outcome | None]]:
        """Wait for ``batch``; ``(job, ParsedDocument | ParseFailure | None)`` in order."""
        out: list[tuple[ParseJob[T], Outcome | None]] = []
        if batch._done is not None:
            for job, outcome in zip(batch._jobs, batch._done, strict=True):
                assert job is not None  # parsed here: the batch holds every job
                out.append((job, outcome))
            return out
        parsed: list[tuple[ParseJob[T], Outcome]] = []
        for chunk in batch._chunks:
            outcomes = self._outcomes(chunk)  # each job's bytes are back in memory
            parsed += zip(chunk.jobs, outcomes, strict=True)
        answers = iter(parsed)
        del parsed
        for job in batch._jobs:
            if job is None:
                out.append(next(answers))
            elif not job.parse:
                out.append((job, None))
            else:
                out.append((job, ParseFailure(self.limits.refusal(len(job.raw)) or "")))
        return out

    def poll(self) -> None:
        """Move requests and replies, and hand waiting work to idle workers; never waits.

        Only this thread moves bytes to and from the workers. A caller that spends a
        long time between :meth:`submit` and :meth:`results` (storing a batch of 500,
        downloading the next) calls this now and then so the workers never run dry.
        """
        if self._procs or self._waiting:
            self._feed()

    def close(self) -> None:
        """Stop the worker processes (at once if they still hold work)."""
        self._waiting.clear()
        procs, self._procs = self._procs, []
        for proc in procs:
            proc.close(kill=bool(proc.pending))

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _outcomes(self, chunk: _Chunk) -> list[Outcome]:
        while chunk.done is None:
            if chunk.crashed and not chunk.started_ok:
                chunk.crashed = False  # its worker never started: no message is to blame
                self._start(chunk)
            elif chunk.crashed:
                while chunk.done is None:
                    marks = chunk.not_read.get(len(chunk.outcomes))
                    chunk.answer(self._retry_alone(chunk.left[0], marks))
            elif chunk.worker is None:  # still waiting: its turn has come
                self._waiting.remove(chunk)
                if chunk.small and budget_enforceable():
                    self._parse_here(chunk)
                else:
                    self._start(chunk)
            else:
                arrived = self._pump()  # take the replies that have arrived, without waiting
                if chunk.done is not None or chunk.crashed or chunk.worker is None:
                    continue  # answered, lost, or back in the queue (its worker overran)
                if arrived and self._sending(chunk.worker):
                    continue  # its worker was waiting for this process to read: read on
                if not self._help():
                    self._pump(until=chunk)
        self._feed()
        return chunk.done

    def _sending(self, worker: WorkerProcess) -> bool:
        """Whether ``worker`` goes on sending replies right after this process read some.

        A worker whose replies filled the pipe waits, blocked, until they are read: it
        has parsed ahead and is not busy. Helping then (parsing a whole chunk here)
        would leave it waiting that long; in a sync, where this process is the busy
        one (downloading, storing), that made it parse ~17% of the messages itself
        while the worker sat blocked. A worker that is parsing sends nothing for a
        while, and this process helps.
        """
        poller = select.poll()
        poller.register(worker.read_fd, select.POLLIN)
        return bool(poller.poll(SENDING_WAIT_MS))

    def _help(self) -> bool:
        """Parse the next waiting chunk in this process; ``False`` if there is none."""
        if not self._waiting or not self._waiting[0].small or not budget_enforceable():
            return False
        self._parse_here(self._waiting.popleft())
        return True

    def _parse_here(self, chunk: _Chunk) -> None:
        from ..attachments._sandbox import reading_inline

        for i, job in enumerate(chunk.left):
            if i % 8 == 7:
                self._pump()  # keep the workers' pipes moving while this process parses
            # Files whose reader killed a worker on this message are not read again.
            with reading_inline(None, chunk.not_read.get(len(chunk.outcomes), {})):
                outcome = parse_one(job, self.config, self.limits)
            chunk.answer(outcome or ParseFailure("not parsed"))

    def _feed(self) -> None:
        """Hand waiting chunks to the workers, up to their bound."""
        if self._no_workers:
            return  # waiting chunks are parsed here when their turn comes
        self._pump()
        running = [c for proc in self._procs for c in proc.pending]
        held = sum(c.nbytes for c in running if isinstance(c, _Chunk))
        count = len(running)
        while self._waiting and count < self._max_chunks:
            nbytes = self._waiting[0].nbytes
            if count and held + nbytes > self._max_bytes:
                break
            self._start(self._waiting.popleft())
            held += nbytes
            count += 1
        self._pump()  # send what was just queued

    def _start(self, chunk: _Chunk) -> None:
        """Send a chunk to the least busy worker (starting one if fewer are running)."""
        if len(self._procs) < self.workers and not self._no_workers:
            from ..attachments._readers import registered_readers

            try:
                self._procs.append(WorkerProcess(self.config, registered_readers()))
            except OSError as exc:  # fork refused: no memory, process limit
                self._worker_failed(f"{type(exc).__name__}: {exc}")
        if not self._procs:
            self._parse_here(chunk)
            return
        proc = min(self._procs, key=lambda p: len(p.pending))
        jobs = chunk.left
        budgets = [self.limits.budget(len(j.raw)) for j in jobs]
        # A large message's reply is a large object arriving here too (_heap).
        pin_mmap_threshold(max(len(j.raw) for j in jobs))
        first = len(chunk.outcomes)
        proc.send(chunk.items(), chunk, budgets, written=lambda: chunk.spill(first))
        chunk.worker = proc  # the bytes go out at the next _pump (every caller pumps next)

    def _pump(self, until: _Chunk | None = None) -> int:
        """Move requests and replies; with ``until``, wait until that chunk is answered.
        Returns how many replies arrived."""
        arrived = 0
        while True:
            for proc in list(self._procs):
                try:
                    replies = proc.pump()
                except WorkerDied:
                    self._lost(proc)
                    continue
                arrived += len(replies)
                for token, outcome in replies:
                    assert isinstance(token, _Chunk)
                    token.answer(outcome)
            if until is None or until.done is not None or until.crashed or until.worker is None:
                return arrived
            # poll(), not select(): no limit on descriptor numbers in a busy process.
            poller = select.poll()
            watched = 0
            deadlines = []
            for p in self._procs:
                if p.pending:
                    poller.register(p.read_fd, select.POLLIN)
                    watched += 1
                    deadline = p.deadline()
                    if deadline is not None:
                        deadlines.append(deadline)
                if p.wants_write:
                    poller.register(p.write_fd, select.POLLOUT)
                    watched += 1
            if not watched:  # cannot happen while `until` is in flight
                until.worker, until.crashed = None, True
                return arrived
            # Wake up in time to stop a worker that overruns its message's budget.
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            poller.poll(None if wait is None else int(wait * 1000) + 10)

    def _lost(self, proc: WorkerProcess) -> None:
        """A worker is gone: give its unanswered chunks back (or to a retry, if it crashed)."""
        self._procs.remove(proc)
        if not proc.ready:
            self._worker_failed(f"exit status {proc.proc.returncode}")
        lost = [c for c in proc.pending if isinstance(c, _Chunk)]
        proc.pending.clear()
        if lost and proc.reading is not None:
            # It died (or overran) reading an attachment of the first message it had not
            # answered: that file fails, and the message is parsed again without it.
            if proc.timed_out:
                why = "did not stop within the message's time budget; its process was killed"
            else:
                from ..attachments._sandbox import crash_cause

                why = f"crashed its process ({crash_cause(proc.proc.returncode)})"
            lost[0].reader_died(proc.reading, why)
        if lost and (proc.timed_out or proc.reading is not None):
            # It was stopped on the first unanswered message of its first chunk: that
            # message fails (unless an attachment was to blame: it is parsed again); the
            # rest of its work is innocent and goes back in the queue.
            head = lost[0]
            if proc.reading is None:
                head.answer(ParseFailure(self.limits.timeout_reason(len(head.left[0].raw))))
            for chunk in reversed(lost):
                chunk.worker = None
                if chunk.done is None:
                    self._waiting.appendleft(chunk)
            return
        for chunk in lost:
            chunk.worker, chunk.crashed, chunk.started_ok = None, True, proc.ready

    def _worker_failed(self, why: str) -> None:
        """A worker could not start; after a few, stop trying and parse here."""
        self._start_failures += 1
        if self._start_failures >= MAX_START_FAILURES and not self._no_workers:
            self._no_workers = True
            log.warning("parser worker processes cannot start (%s); parsing in this process", why)

    def _retry_alone(self, job: ParseJob[Any], not_read: dict[int, str] | None) -> Outcome:
        """Parse one job of a chunk whose worker died; a job that kills it again fails
        (unless an attachment reader did: that file fails, and the job is parsed again)."""
        while True:
            single = _Chunk([job], {0: not_read} if not_read else None)
            self._start(single)
            while single.done is None and not single.crashed:
                if single.worker is None:  # its worker was stopped over another message
                    self._waiting.remove(single)
                    self._start(single)
                else:
                    self._pump(until=single)
            if single.done is not None:
                return single.done[0]
            if single.started_ok:
                return ParseFailure("the parser process crashed on this message")
            # The worker died before it started: try again (after MAX_START_FAILURES
            # such deaths, _start parses in this process, so this ends).


def _parse_next(
    queue: deque[ParseJob[T]],
    rest: Iterator[ParseJob[T]],
    config: ParserConfig,
    limits: ParseLimits,
) -> list[tuple[ParseJob[T], Outcome | None]]:
    """The next job (from ``queue``, then ``rest``) and its outcome, as a list of one
    pair; empty at the end."""
    job = queue.popleft() if queue else next(rest, None)
    if job is None:
        return []
    return [(job, parse_one(job, config, limits))]


def _take(iterator: Iterator[ParseJob[T]], count: int, max_bytes: int) -> list[ParseJob[T]]:
    """The next jobs: ``count`` of them, or fewer once they hold ``max_bytes`` of mail."""
    jobs: list[ParseJob[T]] = []
    nbytes = 0
    for job in iterator:
        jobs.append(job)
        nbytes += len(job.raw)
        if len(jobs) >= count or nbytes >= max_bytes:
            break
    return jobs


def _head(iterator: Iterator[ParseJob[T]], count: int) -> tuple[list[ParseJob[T]], bool]:
    """The first jobs, to tell a short run (fewer than ``count``) from a long one.

    Bounded in bytes as well as in count: past :data:`AHEAD_BYTES` of raw mail one more
    job is read, and if there is one the run is long. Its jobs are not all held at once
    (256 large messages would be).
    """
    head = _take(iterator, count, AHEAD_BYTES)
    if len(head) >= count:
        return head, False
    if sum(len(job.raw) for job in head) < AHEAD_BYTES:
        return head, True  # the iterator is exhausted
    following = next(iterator, None)
    if following is None:
        return head, True
    return [*head, following], False


def parse_many(
    jobs: Iterable[ParseJob[T]],
    parser_config: ParserConfig | None = None,
    *,
    workers: int | None = None,
    chunk_size: int = 32,
    inline_below: int = 256,
    limits: ParseLimits | None = None,
) -> Generator[tuple[ParseJob[T], Outcome | None], None, None]:
    """Parse every job, yielding ``(job, ParsedDocument | ParseFailure | None)`` in order.

    Args:
        jobs: the messages; consumed lazily (a bounded number of chunks and bytes ahead).
        parser_config: the cleaning flags (defaults: ``ParserConfig()``).
        workers: worker processes; ``0`` parses in this process. Default: cores - 1.
            Where the time budget cannot be enforced in this process (not the main
            thread, or the application has its own SIGALRM handler), at least one worker
            parses, whatever this says.
        chunk_size: messages sent to a worker at once.
        inline_below: runs shorter than this parse in-process (no start-up cost), where
            the time budget can be enforced in this process.
        limits: the size limit and time budget per message (default: the config's).
    """
    config = parser_config or ParserConfig()
    n_workers = default_workers() if workers is None else workers
    iterator = iter(jobs)
    head, short = _head(iterator, inline_below)
    limits = limits or config.limits
    in_process = n_workers <= 0 or short
    if in_process and budget_enforceable():
        # Nothing here holds a job once it is handed on (not the head list, not a loop
        # variable while the caller stores it): a large message's bytes can then be
        # freed as soon as the caller lets them go (``Store.add(consume=True)``).
        queue = deque(head)
        del head
        while parsed := _parse_next(queue, iterator, config, limits):
            yield parsed.pop()  # leaves ``parsed`` empty while the caller has the pair
        return
    jobs_left = chain(head, iterator)
    n_workers = max(1, n_workers)  # the budget needs a process it can stop
    with ParsePool(config, n_workers, chunk_size=chunk_size, limits=limits) as pool:
        # Keep the workers full, plus a few chunks for this process to parse while it
        # would otherwise wait (see ParsePool); bounded in count and in bytes.
        ahead_chunks = pool.capacity + HELP_AHEAD_CHUNKS
        pending: deque[tuple[ParseBatch[T], int]] = deque()
        ahead_bytes = 0
        while True:
            while len(pending) < ahead_chunks and (not pending or ahead_bytes < AHEAD_BYTES):
                taken = _take(jobs_left, chunk_size, CHUNK_BYTES)
                if not taken:
                    break
                nbytes = sum(len(j.raw) for j in taken)
                pending.append((pool.submit(taken), nbytes))
                ahead_bytes += nbytes
                del taken
            if not pending:
                return
            batch, nbytes = pending.popleft()
            ahead_bytes -= nbytes
            # As in-process: once a pair is handed on, nothing here holds its job (the
            # batch and its chunks hold every job and outcome: let go first).
            pairs = deque(pool.results(batch))
            del batch
            while pairs:
                yield pairs.popleft()
