"""Parsing fetched messages, in this process or in worker processes.

Parsing (MIME, HTML, cleaning) is CPU-bound Python, about half of a sync's time. With
workers, the parse of batch N runs in another process while this one downloads batch
N+1 and stores batch N-1, so two cores are used. Results are identical either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mailatlas_clean import ParseError, ParserConfig, parse_bytes
from mailatlas_core import ParsedDocument

__all__ = ["ParseItem", "ParseOutcome", "Parser", "parse_many"]

log = logging.getLogger("mailatlas_imap")

ParseItem = tuple[bytes, str | None]  # raw message, INTERNALDATE as UTC ISO
ParseOutcome = ParsedDocument | str  # a document, or why it could not be parsed

AUTO_WORKERS_FROM = 1000  # messages to fetch before workers pay for their start-up


def parse_many(items: list[ParseItem], config: ParserConfig) -> list[ParseOutcome]:
    """Parse each message; a failure becomes its reason (it never raises)."""
    out: list[ParseOutcome] = []
    for raw, received_at in items:
        try:
            out.append(parse_bytes(raw, config, received_at=received_at))
        except ParseError as exc:
            out.append(str(exc) or "message could not be parsed")
        except Exception as exc:  # a parser bug must not block the folder either
            out.append(f"parser error: {type(exc).__name__}: {exc}")
    return out


class Parser:
    """Parses batches, in-process or on a lazily started process pool."""

    def __init__(self, config: ParserConfig, workers: int | None) -> None:
        self.config = config
        self.workers = workers  # None: decide per run size; 0: never
        self._pool: ProcessPoolExecutor | None = None

    def expect(self, count: int) -> None:
        """Start workers when ``count`` messages are about to be fetched and it pays."""
        if self._pool is not None or self.workers == 0:
            return
        n = self.workers
        if n is None:
            if count < AUTO_WORKERS_FROM or (os.cpu_count() or 1) < 2:
                return
            n = 1  # one parser next to the I/O + store process: two busy cores
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else ("spawn")
        )
        self._pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context(method))

    def submit(self, items: list[ParseItem]) -> Future[list[ParseOutcome]]:
        """Start parsing ``items``; in-process the future is already done."""
        if self._pool is not None and items:
            try:
                return self._pool.submit(parse_many, items, self.config)
            except (BrokenProcessPool, RuntimeError) as exc:
                self._drop_pool(exc)
        done: Future[list[ParseOutcome]] = Future()
        done.set_result(parse_many(items, self.config))
        return done

    def result(
        self, future: Future[list[ParseOutcome]], items: list[ParseItem]
    ) -> list[ParseOutcome]:
        """The outcomes of ``submit``; parses in-process if the worker died."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._drop_pool(exc)
            return parse_many(items, self.config)

    def _drop_pool(self, exc: BaseException) -> None:
        log.warning("parser worker failed (%s); parsing in-process", exc)
        self.close()
        self.workers = 0

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
