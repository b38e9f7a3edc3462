"""Parse many messages on every core, results in input order.

Parsing is the CPU-heavy step of both ingest and IMAP sync. :func:`parse_many` runs it
in worker processes while the caller's process keeps reading, fetching and writing,
and yields results *in input order*, so callers can commit batches and advance IMAP
cursors exactly as if they had parsed inline.

* Small jobs never pay for processes: until ``inline_below`` messages have been seen,
  nothing is started, and a run that ends before that parses in-process.
* Memory stays bounded: at most ``workers * 4`` chunks are in flight.
* The raw bytes are not sent back from the workers (the caller still has them).
* A worker that dies (a crash in a C extension, the OOM killer) costs only the
  messages it was holding: they are retried one by one in a fresh pool, and a message
  that kills a worker again is reported as failed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from itertools import islice
from typing import Generic, TypeVar

from mailatlas_core import ParsedDocument

from ._parse import parse_bytes
from .config import ParserConfig
from .errors import ParseError

__all__ = ["ParseFailure", "ParseJob", "parse_many"]

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
    """One worker per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
        jobs: the messages; consumed lazily.
        parser_config: the cleaning flags (defaults: ``ParserConfig()``).
        workers: worker processes; ``0`` parses in this process. Default: one per core.
        chunk_size: messages sent to a worker at once.
        inline_below: runs shorter than this parse in-process (no start-up cost).
    """
    config = parser_config or ParserConfig()
    n_workers = default_workers() if workers is None else workers
    iterator = iter(jobs)
    head = list(islice(iterator, inline_below))
    if n_workers <= 0 or len(head) < inline_below:
        for job in head:
            yield job, parse_one(job, config)
        for job in iterator:
            yield job, parse_one(job, config)
        return
    yield from _parse_in_pool(_chain(head, iterator), config, n_workers, chunk_size)


def _chain(head: list[ParseJob[T]], rest: Iterator[ParseJob[T]]) -> Iterator[ParseJob[T]]:
    yield from head
    yield from rest


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: workers never inherit the caller's threads, locks or database handle,
    # and the parser modules are imported once in the server, not in every worker.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["mailatlas_clean._parse"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _parse_in_pool(
    jobs: Iterator[ParseJob[T]], config: ParserConfig, workers: int, chunk_size: int
) -> Iterator[tuple[ParseJob[T], _Outcome | None]]:
    pool = _new_pool(workers)
    pending: deque[tuple[list[ParseJob[T]], Future[list[_Outcome]]]] = deque()
    max_in_flight = workers * 4

    def submit(chunk: list[ParseJob[T]]) -> None:
        items = [(j.raw, j.received_at, j.envelope) for j in chunk if j.parse]
        try:
            future = pool.submit(_parse_chunk, items, config)
        except BrokenProcessPool as exc:  # a worker died since the last result
            future = Future()
            future.set_exception(exc)
        pending.append((chunk, future))

    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < max_in_flight:
                chunk = list(islice(jobs, chunk_size))
                if not chunk:
                    exhausted = True
                    break
                submit(chunk)
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                outcomes = future.result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(workers)
                redo = [chunk] + [c for c, _f in pending]
                pending.clear()
                for job in (j for c in redo for j in c):
                    if not job.parse:
                        yield job, None
                        continue
                    outcome, broken = _retry_alone(pool, job, config)
                    yield job, outcome
                    if broken:  # this job killed its worker: start clean again
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = _new_pool(workers)
                continue
            parsed = iter(outcomes)
            for job in chunk:
                if not job.parse:
                    yield job, None
                    continue
                outcome = next(parsed)
                if isinstance(outcome, ParsedDocument):
                    outcome = replace(outcome, raw=job.raw)
                yield job, outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _retry_alone(
    pool: ProcessPoolExecutor, job: ParseJob[T], config: ParserConfig
) -> tuple[_Outcome, bool]:
    """Parse one job alone; returns the outcome and whether it broke the pool."""
    try:
        future = pool.submit(_parse_chunk, [(job.raw, job.received_at, job.envelope)], config)
        (result,) = future.result()
    except BrokenProcessPool:
        return ParseFailure("the parser process crashed on this message"), True
    if isinstance(result, ParsedDocument):
        return replace(result, raw=job.raw), False
    return result, False
