"""Parsing fetched batches, next to the download, on the shared parser pool.

Parsing (MIME, HTML, cleaning) is CPU-bound Python, about half of a sync's time. With
a worker, the parse of batch N runs in another process while this one downloads batch
N+1 and stores batch N-1, so two cores are used. Results are identical either way; the
pool itself (ordering, crash recovery) is :class:`mailatlas_clean.ParsePool`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeAlias

from mailatlas_clean import ParserConfig

if TYPE_CHECKING:
    from mailatlas_clean import ParseBatch, ParseFailure, ParsePool
    from mailatlas_core import ParsedDocument

__all__ = ["ParseItem", "ParseOutcome", "Parser", "PendingParse"]

ParseItem = tuple[bytes, str | None]  # raw message, INTERNALDATE as UTC ISO
# A document, or why it could not be parsed (for MessageToStore.settle).
ParseOutcome: TypeAlias = "ParsedDocument | ParseFailure | None"
PendingParse: TypeAlias = "ParseBatch[int]"

AUTO_WORKERS_FROM = 1000  # messages to fetch before a worker pays for its start-up


class Parser:
    """Parses batches in-process, or on a worker process once a folder is big enough.

    The pool (and with it pickle, ctypes and the worker code) loads only when something
    is to be parsed: a sync with nothing new never needs it.
    """

    def __init__(self, config: ParserConfig | None, workers: int | None) -> None:
        self.config = config if config is not None else ParserConfig()  # None: the defaults
        self.workers = workers  # None: decide per run size; 0: never
        self._pool: ParsePool | None = None

    def _started(self, workers: int = 0) -> ParsePool:
        if self._pool is None or workers:
            from mailatlas_clean import ParsePool

            if self._pool is not None:
                self._pool.close()
            self._pool = ParsePool(self.config, workers=workers)
        return self._pool

    def expect(self, count: int) -> None:
        """Start a worker when ``count`` messages are about to be fetched and it pays."""
        if (self._pool is not None and self._pool.workers) or self.workers == 0:
            return
        n = self.workers
        if n is None:
            if count < AUTO_WORKERS_FROM or (os.cpu_count() or 1) < 2:
                return
            from mailatlas_clean import default_workers

            n = default_workers()  # cores - 1: this process downloads and stores
        self._started(n)

    def submit(self, items: list[ParseItem]) -> PendingParse:
        """Start parsing ``items`` (in-process, this parses right away).

        The items are handed over: the caller holds no other reference to their raw
        bytes, which :meth:`result` gives back (a large message's wait on disk while a
        worker parses it, not in memory beside its document as it arrives).
        """
        from mailatlas_clean import ParseJob

        jobs = [ParseJob(i, raw, received_at) for i, (raw, received_at) in enumerate(items)]
        items.clear()
        return self._started().submit(jobs)

    def result(self, pending: PendingParse) -> list[tuple[bytes, ParseOutcome]]:
        """The outcomes of ``submit``, in order: each message's raw bytes, and its
        document or why there is none."""
        return [(job.raw, outcome) for job, outcome in self._started().results(pending)]

    def poll(self) -> None:
        """Move work to and from the parser workers without waiting (call it often)."""
        if self._pool is not None:
            self._pool.poll()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
