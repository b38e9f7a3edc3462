"""The ingest pipeline: raw messages in, stored documents and a summary out.

One function, :func:`ingest_messages`, over an iterator of raw messages. For each
message a cheap header-only dedupe runs first (Message-ID or raw hash already stored:
record the new location, count a duplicate, never parse); otherwise the message is
parsed and stored. Adds are committed in batches. A message that cannot be read or
parsed is recorded as a failure (reason and raw bytes) and the run goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from mailatlas_clean import ParseError, ParserConfig, parse_bytes, peek_message_id
from mailatlas_core import DocumentRef, SourceLocation, Store, UnsafePathError, content_hash

from ._sources import SourceItem, Unreadable

__all__ = ["BATCH_SIZE", "IngestFailure", "IngestResult", "ingest_messages", "source_label"]

BATCH_SIZE = 200

Status = Literal["ok", "partial", "error"]


def source_label(location: SourceLocation) -> str:
    """A human-readable name for where a message came from."""
    if location.kind == "imap":
        return f"{location.folder} uid {location.uid}"
    label = location.path or location.kind
    return f"{label}@{location.offset}" if location.offset is not None else label


@dataclass(frozen=True, slots=True)
class IngestFailure:
    """One message (or file) that could not be ingested, and why."""

    source: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "error": self.error}


@dataclass(slots=True)
class IngestResult(Sequence[DocumentRef]):
    """The summary of one ingest run.

    It is also a sequence of the refs of the documents new in this run, so
    ``atlas.ingest_eml(paths)[0].id`` is the first new document's id.
    """

    ingested_count: int = 0
    duplicate_count: int = 0
    failed_count: int = 0
    refs: list[DocumentRef] = field(default_factory=list)
    failures: list[IngestFailure] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """``ok`` (no failure), ``partial`` (some failed) or ``error`` (all failed)."""
        if not self.failed_count:
            return "ok"
        if self.ingested_count or self.duplicate_count:
            return "partial"
        return "error"

    @property
    def processed_count(self) -> int:
        return self.ingested_count + self.duplicate_count + self.failed_count

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary that ``mailatlas ingest`` prints."""
        return {
            "status": self.status,
            "ingested_count": self.ingested_count,
            "duplicate_count": self.duplicate_count,
            "failed_count": self.failed_count,
            "document_refs": [ref.to_dict() for ref in self.refs],
            "failures": [f.to_dict() for f in self.failures],
        }

    @overload
    def __getitem__(self, index: int) -> DocumentRef: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DocumentRef]: ...
    def __getitem__(self, index: int | slice) -> DocumentRef | Sequence[DocumentRef]:
        return self.refs[index]

    def __len__(self) -> int:
        return len(self.refs)

    def __iter__(self) -> Iterator[DocumentRef]:
        return iter(self.refs)


Progress = Callable[[IngestResult], None]


def _process(
    store: Store, item: SourceItem, config: ParserConfig, result: IngestResult, run_id: int
) -> None:
    if isinstance(item, Unreadable):
        _fail(store, item.location, item.reason, None, result, run_id)
        return
    raw, location = item.raw, item.location
    known = store.known(peek_message_id(raw), content_hash(raw))
    if known is not None:
        store.add_location(known, location)
        result.duplicate_count += 1
        return
    try:
        parsed = parse_bytes(raw, config, envelope=item.envelope)
    except ParseError as exc:
        _fail(store, location, str(exc), raw, result, run_id)
        return
    except Exception as exc:  # a parser bug must not stop the run
        _fail(
            store,
            location,
            f"unexpected parser error: {type(exc).__name__}: {exc}",
            raw,
            result,
            run_id,
        )
        return
    try:
        added = store.add(parsed, location)
    except UnsafePathError as exc:
        _fail(store, location, str(exc), raw, result, run_id)
        return
    if added.is_new:
        result.ingested_count += 1
        result.refs.append(added.ref)
    else:
        result.duplicate_count += 1


def _fail(
    store: Store,
    location: SourceLocation,
    reason: str,
    raw: bytes | None,
    result: IngestResult,
    run_id: int,
) -> None:
    store.record_failure(location, reason, raw, run_id)
    result.failed_count += 1
    result.failures.append(IngestFailure(source_label(location), reason))


def ingest_messages(
    store: Store,
    messages: Iterable[SourceItem],
    parser_config: ParserConfig,
    *,
    run_kind: str,
    run_detail: dict[str, Any] | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestResult:
    """Ingest every message of ``messages`` into ``store``; return the run's summary.

    Args:
        store: an open, writable store.
        messages: raw messages (or unreadable sources) in the order to ingest them.
        parser_config: the cleaning flags applied to every new document.
        run_kind: recorded with the run (``eml``, ``mbox``, ``maildir``).
        run_detail: extra detail recorded with the run (paths, flags).
        progress: called with the running totals after each message.
        batch_size: how many messages share one commit.
    """
    result = IngestResult()
    run_id = store.start_run(run_kind, run_detail or {})
    iterator = iter(messages)
    try:
        exhausted = False
        while not exhausted:
            with store.transaction():
                for _ in range(batch_size):
                    item = next(iterator, None)
                    if item is None:
                        exhausted = True
                        break
                    _process(store, item, parser_config, result, run_id)
                    if progress is not None:
                        progress(result)
    except BaseException:
        # Committed batches stay; record how far the run got, but never mask the cause.
        with contextlib.suppress(Exception):
            store.finish_run(run_id, "interrupted", _run_summary(result))
        raise
    store.finish_run(run_id, result.status, _run_summary(result))
    return result


def _run_summary(result: IngestResult) -> dict[str, Any]:
    summary = result.to_dict()
    del summary["document_refs"]  # counts only: one run can add millions of documents
    return summary
