"""Parse many messages on every core, results in input order.

Parsing is the CPU-heavy step of both ingest and IMAP sync. :func:`parse_many` runs it
in worker processes while the caller's process keeps reading, fetching and writing,
and yields results *in input order*, so callers can commit batches and advance IMAP
cursors exactly as if they had parsed inline.

* Small jobs never pay for processes: until ``inline_below`` messages have been seen,
  nothing is started, and a run that ends before that parses in-process.
* Memory stays bounded: at most ``workers * 8`` chunks are in flight.
* The raw bytes are not sent back from the workers (the caller still has them).
* A worker that dies (a crash in a C extension, the OOM killer) costs only the
  messages it was holding: they are retried one by one in a fresh pool, and a message
  that kills a worker again is reported as failed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from itertools import chain, islice
from typing import Generic, TypeVar

from mailatlas_core import ParsedDocument

from ._lifeline import die_with_parent
from ._parse import parse_bytes
from .config import ParserConfig
from .errors import ParseError

__all__ = ["ParseBatch", "ParseFailure", "ParseJob", "ParsePool", "default_workers", "parse_many"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ParseJob(Generic[T]):
    """One message to parse. ``tag`` stays in the calling process (any value).

    A job with ``parse=False`` is not parsed: it keeps its place in the output order
    with the outcome ``None`` (callers use this for messages they already know are
    duplicates or unreadable, so every input is answered in order).
    """

    tag: T
    raw: bytes
    received_at: str | None = None
    envelope: str | None = None
    parse: bool = True


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why a message could not be parsed (``ParseError`` text or an unexpected error)."""

    reason: str


_Outcome = ParsedDocument | ParseFailure


def parse_one(job: ParseJob[T], config: ParserConfig) -> _Outcome | None:
    """Parse one job in this process; never raises for a bad message."""
    if not job.parse:
        return None
    try:
        return parse_bytes(job.raw, config, received_at=job.received_at, envelope=job.envelope)
    except ParseError as exc:
        return ParseFailure(str(exc))
    except RecursionError:
        return ParseFailure("message structure is nested too deeply to parse")
    except Exception as exc:  # a parser bug must cost one message, not the run
        return ParseFailure(f"unexpected parser error: {type(exc).__name__}: {exc}")


def _parse_chunk(
    items: list[tuple[bytes, str | None, str | None]], config: ParserConfig
) -> list[_Outcome]:
    out: list[_Outcome] = []
    for raw, received_at, envelope in items:
        outcome = parse_one(ParseJob(None, raw, received_at, envelope), config)
        assert outcome is not None
        # The caller holds the raw bytes already; don't pickle them back.
        out.append(replace(outcome, raw=b"") if isinstance(outcome, ParsedDocument) else outcome)
    return out


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


class ParseBatch(Generic[T]):
    """Jobs handed to :meth:`ParsePool.submit`; pass it back to :meth:`ParsePool.results`."""

    __slots__ = ("_done", "_future", "_generation", "jobs")

    def __init__(self, jobs: list[ParseJob[T]]) -> None:
        self.jobs = jobs
        self._future: Future[list[_Outcome]] | None = None
        self._done: list[_Outcome | None] | None = None
        self._generation = 0


class ParsePool:
    """Parse batches of messages in worker processes (or inline with ``workers=0``).

    ``submit`` returns at once; ``results`` waits and answers in job order. The
    processes start on the first submit. Use it as a context manager, or ``close()``.
    """

    def __init__(self, parser_config: ParserConfig | None = None, workers: int | None = None):
        self.config = parser_config or ParserConfig()
        self.workers = default_workers() if workers is None else max(0, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0

    def submit(self, jobs: list[ParseJob[T]]) -> ParseBatch[T]:
        """Start parsing ``jobs`` (inline pools parse right here)."""
        batch = ParseBatch(jobs)
        items = [(j.raw, j.received_at, j.envelope) for j in jobs if j.parse]
        if self.workers == 0 or not items:
            batch._done = [parse_one(j, self.config) for j in jobs]
            return batch
        batch._generation = self._generation
        try:
            batch._future = self._executor().submit(_parse_chunk, items, self.config)
        except BrokenProcessPool as exc:  # a worker died since the last result
            batch._future = Future()
            batch._future.set_exception(exc)
        return batch

    def results(self, batch: ParseBatch[T]) -> list[tuple[ParseJob[T], _Outcome | None]]:
        """Wait for ``batch``; ``(job, ParsedDocument | ParseFailure | None)`` in order."""
        if batch._done is not None:
            return list(zip(batch.jobs, batch._done, strict=True))
        assert batch._future is not None
        try:
            outcomes = iter(batch._future.result())
        except BrokenProcessPool:
            if batch._generation == self._generation:
                self._restart()
            return [(job, self._retry_alone(job)) for job in batch.jobs]
        out: list[tuple[ParseJob[T], _Outcome | None]] = []
        for job in batch.jobs:
            if not job.parse:
                out.append((job, None))
                continue
            outcome = next(outcomes)
            if isinstance(outcome, ParsedDocument):
                outcome = replace(outcome, raw=job.raw)
            out.append((job, outcome))
        return out

    def close(self) -> None:
        """Stop the worker processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers never inherit the caller's threads, locks or database
            # handle, and the parser modules are imported once in the server.
            ctx = multiprocessing.get_context("forkserver")
            # _forkserver_arm makes the forkserver die with this process; each worker
            # dies with the forkserver (initializer): no orphans after a SIGKILL.
            ctx.set_forkserver_preload(
                ["mailatlas_clean._forkserver_arm", "mailatlas_clean._parse"]
            )
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=die_with_parent
            )
        return self._pool

    def _restart(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._generation += 1

    def _retry_alone(self, job: ParseJob[T]) -> _Outcome | None:
        """Parse one job of a batch whose worker died; a job that kills it again fails."""
        if not job.parse:
            return None
        try:
            future = self._executor().submit(
                _parse_chunk, [(job.raw, job.received_at, job.envelope)], self.config
            )
            (outcome,) = future.result()
        except BrokenProcessPool:
            self._restart()
            return ParseFailure("the parser process crashed on this message")
        return replace(outcome, raw=job.raw) if isinstance(outcome, ParsedDocument) else outcome


def parse_many(
    jobs: Iterable[ParseJob[T]],
    parser_config: ParserConfig | None = None,
    *,
    workers: int | None = None,
    chunk_size: int = 32,
    inline_below: int = 256,
) -> Generator[tuple[ParseJob[T], _Outcome | None], None, None]:
    """Parse every job, yielding ``(job, ParsedDocument | ParseFailure | None)`` in order.

    Args:
        jobs: the messages; consumed lazily (at most ``workers * 8`` chunks ahead).
        parser_config: the cleaning flags (defaults: ``ParserConfig()``).
        workers: worker processes; ``0`` parses in this process. Default: cores - 1.
        chunk_size: messages sent to a worker at once.
        inline_below: runs shorter than this parse in-process (no start-up cost).
    """
    config = parser_config or ParserConfig()
    n_workers = default_workers() if workers is None else workers
    iterator = iter(jobs)
    head = list(islice(iterator, inline_below))
    if n_workers <= 0 or len(head) < inline_below:
        for job in chain(head, iterator):
            yield job, parse_one(job, config)
        return
    jobs_left = chain(head, iterator)
    with ParsePool(config, n_workers) as pool:
        pending: deque[ParseBatch[T]] = deque()
        while True:
            # Enough work queued that the workers stay busy while the caller stores a
            # whole batch of results; still bounded (memory).
            while len(pending) < n_workers * 8:
                chunk = list(islice(jobs_left, chunk_size))
                if not chunk:
                    break
                pending.append(pool.submit(chunk))
            if not pending:
                return
            yield from pool.results(pending.popleft())
