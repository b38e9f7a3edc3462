"""Parsing fetched batches, next to the download, on the shared parser pool.

Parsing (MIME, HTML, cleaning) is CPU-bound Python, about half of a sync's time. With
a worker, the parse of batch N runs in another process while this one downloads batch
N+1 and stores batch N-1, so two cores are used. Results are identical either way; the
pool itself (ordering, crash recovery) is :class:`mailatlas_clean.ParsePool`.
"""

from __future__ import annotations

import os

from mailatlas_clean import (
    ParseBatch,
    ParseFailure,
    ParseJob,
    ParsePool,
    ParserConfig,
    default_workers,
)
from mailatlas_core import ParsedDocument

__all__ = ["ParseItem", "ParseOutcome", "Parser", "PendingParse"]

ParseItem = tuple[bytes, str | None]  # raw message, INTERNALDATE as UTC ISO
# A document, or why it could not be parsed (for MessageToStore.settle).
ParseOutcome = ParsedDocument | ParseFailure | None
PendingParse = ParseBatch[int]

AUTO_WORKERS_FROM = 1000  # messages to fetch before a worker pays for its start-up


class Parser:
    """Parses batches in-process, or on a worker process once a folder is big enough."""

    def __init__(self, config: ParserConfig | None, workers: int | None) -> None:
        self.config = config if config is not None else ParserConfig()  # None: the defaults
        self.workers = workers  # None: decide per run size; 0: never
        self._pool = ParsePool(config, workers=0)

    def expect(self, count: int) -> None:
        """Start a worker when ``count`` messages are about to be fetched and it pays."""
        if self._pool.workers or self.workers == 0:
            return
        n = self.workers
        if n is None:
            if count < AUTO_WORKERS_FROM or (os.cpu_count() or 1) < 2:
                return
            n = default_workers()  # cores - 1: this process downloads and stores
        self._pool.close()
        self._pool = ParsePool(self.config, workers=n)

    def submit(self, items: list[ParseItem]) -> PendingParse:
        """Start parsing ``items`` (in-process, this parses right away)."""
        jobs = [ParseJob(i, raw, received_at) for i, (raw, received_at) in enumerate(items)]
        return self._pool.submit(jobs)

    def result(self, pending: PendingParse) -> list[ParseOutcome]:
        """The outcomes of ``submit``, in order: a document or why there is none."""
        return [outcome for _job, outcome in self._pool.results(pending)]

    def poll(self) -> None:
        """Move work to and from the parser workers without waiting (call it often)."""
        self._pool.poll()

    def close(self) -> None:
        self._pool.close()
