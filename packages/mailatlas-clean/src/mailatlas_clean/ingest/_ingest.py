"""The message-to-store pipeline of file ingest: read -> parse -> dedupe -> store.

:func:`ingest_paths` ingests ``.eml`` files, mbox archives or Maildir folders into a
store; :func:`ingest_messages` does the same for any stream of raw messages. For each
message a cheap header-only dedupe runs first (a stored copy: record the new location,
count a duplicate, never parse); otherwise the message is parsed (in worker processes
for long runs) and stored, in input order, batches committed together. Failures follow
the one rule of :mod:`._storing` (shared with the IMAP sync): one bad message is
recorded with its raw bytes and the run goes on; a store that cannot be written stops
it.

Usage::

    from mailatlas_clean import ingest_paths
    from mailatlas_core import open_store

    store = open_store(".mailatlas/store.db", ".mailatlas/workspace")
    result = ingest_paths(store, "mbox", ["archive.mbox"])
    print(result.status, result.ingested_count, result.failures)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, overload

from mailatlas_core import DocumentRef, ParsedDocument, SourceLocation, Store

from .._config import ParserConfig
from ..pool._pool import ParseFailure, ParseJob, parse_many
from ..readers._paths import PathsArg, as_paths
from ..readers._sources import (
    Skipped,
    SourceItem,
    Unreadable,
    eml_messages,
    maildir_messages,
    mbox_messages,
)
from ._interrupts import interrupts_deferred
from ._reflog import RefLog
from ._storing import MessageToStore, known_copies_among, store_message, tally

__all__ = [
    "BATCH_SIZE",
    "IngestFailure",
    "IngestInterrupted",
    "IngestProgress",
    "IngestResult",
    "SourceKind",
    "ingest_messages",
    "ingest_paths",
    "source_label",
]

BATCH_SIZE = 200
# Messages whose stored copies are looked up together (two queries for the lot, not one
# per message), holding at most this many bytes of mail at once (or one message).
DEDUPE_COUNT = 32
DEDUPE_BYTES = 8 * 1024 * 1024

Status = Literal["ok", "partial", "error", "interrupted"]
SourceKind: TypeAlias = Literal["eml", "mbox", "maildir"]


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


@dataclass(slots=True, repr=False)
class IngestResult(Sequence[DocumentRef]):
    """The summary of one ingest run.

    It is also a sequence of the refs of the documents new in this run, so
    ``atlas.ingest_eml(paths)[0].id`` is the first new document's id. It is always
    true, even when no document is new (a rerun of duplicates): ``if result:`` would
    otherwise read a successful run as a failure. Ask ``result.status`` or the counts.
    """

    ingested_count: int = 0
    duplicate_count: int = 0
    failed_count: int = 0
    refs: RefLog = field(default_factory=RefLog)
    failures: list[IngestFailure] = field(default_factory=list)
    #: Symbolic links found inside walked directories: reported, not followed.
    skipped: list[IngestFailure] = field(default_factory=list)
    interrupted: bool = False
    #: How many of ``refs`` are committed (the rest belong to the batch still open).
    committed_count: int = field(default=0, compare=False)
    #: Where the message processed last came from (progress by file and byte offset).
    last_location: SourceLocation | None = field(default=None, compare=False)

    @property
    def status(self) -> Status:
        """``ok`` (no failure), ``partial`` (some failed), ``error`` (all failed), or
        ``interrupted`` (stopped by Ctrl-C: the counts are what was committed)."""
        if self.interrupted:
            return "interrupted"
        if not self.failed_count:
            return "ok"
        if self.ingested_count or self.duplicate_count:
            return "partial"
        return "error"

    @property
    def processed_count(self) -> int:
        return self.ingested_count + self.duplicate_count + self.failed_count

    def to_dict(self, *, with_refs: bool = True) -> dict[str, Any]:
        """The JSON summary that ``mailatlas ingest`` prints (the CLI streams the refs).

        ``with_refs=False`` leaves ``document_refs`` empty, for callers that stream them.
        """
        return {
            "status": self.status,
            "ingested_count": self.ingested_count,
            "duplicate_count": self.duplicate_count,
            "failed_count": self.failed_count,
            "document_refs": [ref.to_dict() for ref in self.refs] if with_refs else [],
            "failures": [f.to_dict() for f in self.failures],
            "skipped_count": len(self.skipped),
            "skipped": [f.to_dict() for f in self.skipped],
        }

    def __repr__(self) -> str:
        shown = ", ".join(repr(ref.id) for ref in self.refs[:3])
        more = f", … {len(self.refs) - 3} more" if len(self.refs) > 3 else ""
        failures = ", ".join(repr(f) for f in self.failures[:3])
        more_failures = f", … {len(self.failures) - 3} more" if len(self.failures) > 3 else ""
        return (
            f"IngestResult(status={self.status!r}, ingested_count={self.ingested_count}, "
            f"duplicate_count={self.duplicate_count}, failed_count={self.failed_count}, "
            f"refs=[{shown}{more}], failures=[{failures}{more_failures}])"
        )

    @overload
    def __getitem__(self, index: int) -> DocumentRef: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DocumentRef]: ...
    def __getitem__(self, index: int | slice) -> DocumentRef | Sequence[DocumentRef]:
        return self.refs[index]

    def __len__(self) -> int:
        return len(self.refs)

    def __bool__(self) -> bool:
        return True  # a summary, not an empty list: see the class docstring

    def __iter__(self) -> Iterator[DocumentRef]:
        return iter(self.refs)


IngestProgress: TypeAlias = Callable[[IngestResult], None]
"""Called with the running totals after each message."""


class IngestInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an ingest; ``result`` holds what was committed before it.

    A ``KeyboardInterrupt``, so a program that does not look for it stops as usual.
    """

    def __init__(self, result: IngestResult) -> None:
        super().__init__(f"interrupted: {result.ingested_count} stored")
        self.result = result


@dataclass(frozen=True, slots=True)
class _Committed:
    """The counts of an ingest at its last commit (what an interruption leaves stored)."""

    ingested: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: int = 0

    @classmethod
    def of(cls, result: IngestResult) -> _Committed:
        r = result
        return cls(r.ingested_count, r.duplicate_count, r.failed_count, len(r.failures))

    def restore(self, result: IngestResult) -> None:
        result.ingested_count, result.duplicate_count = self.ingested, self.duplicates
        result.failed_count = self.failed
        del result.failures[self.failures :]
        result.refs.truncate(self.ingested)
        result.committed_count = self.ingested
        result.interrupted = True


def _jobs(
    store: Store, messages: Iterable[SourceItem], result: IngestResult
) -> Iterator[ParseJob[MessageToStore]]:
    """The dedupe step, in order: unreadable sources and stored copies skip the parser.

    Stored copies are looked up a group at a time (:data:`DEDUPE_COUNT` messages, at
    most :data:`DEDUPE_BYTES`): the parser reads further ahead than that anyway, so a
    copy is known exactly as early as when each message was looked up on its own.
    """
    group: list[SourceItem] = []
    nbytes = 0
    for item in messages:
        group.append(item)
        if not isinstance(item, Skipped | Unreadable):
            nbytes += len(item.raw)
        if len(group) >= DEDUPE_COUNT or nbytes >= DEDUPE_BYTES:
            yield from _group_jobs(store, group, result)
            group, nbytes = [], 0
    yield from _group_jobs(store, group, result)


def _group_jobs(
    store: Store, group: list[SourceItem], result: IngestResult
) -> Iterator[ParseJob[MessageToStore]]:
    raws = [item.raw for item in group if not isinstance(item, Skipped | Unreadable)]
    known_ids = iter(known_copies_among(store, raws) if raws else [])
    del raws
    while group:
        item = group.pop(0)  # not held here once handed on (see parse_many)
        if isinstance(item, Skipped):  # no message: nothing to store or roll back
            result.skipped.append(IngestFailure(source_label(item.location), item.reason))
            continue
        if isinstance(item, Unreadable):
            unread = MessageToStore(item.location, failure=item.reason)
            yield ParseJob(unread, b"", parse=False)
            continue
        raw, envelope = item.raw, item.envelope
        known = next(known_ids)
        # The job holds the bytes until its outcome comes back (a large message's wait
        # on disk while a worker parses it: see parse_many); the message takes them then.
        message = MessageToStore(item.location, known_id=known)
        del item
        yield ParseJob(message, raw, envelope=envelope, parse=known is None)


def _apply(
    store: Store,
    message: MessageToStore,
    outcome: ParsedDocument | ParseFailure | None,
    result: IngestResult,
    run_id: int,
) -> None:
    result.last_location = message.location
    if message.known_id is None and message.failure is None:
        message.settle(outcome)
    stored = store_message(store, message, run_id)
    message.parsed = message.raw = None  # stored (or recorded): see ingest_messages
    tally(stored, result, result.refs)
    if stored.kind == "failed":
        reason = stored.reason or ""
        result.failures.append(IngestFailure(source_label(message.location), reason))


def ingest_messages(
    store: Store,
    messages: Iterable[SourceItem],
    parser_config: ParserConfig,
    *,
    run_kind: str,
    run_detail: dict[str, Any] | None = None,
    progress: IngestProgress | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> IngestResult:
    """Ingest every message of ``messages`` into ``store``; return the run's summary.

    Known messages (same Message-ID or raw bytes) are recognised from their headers
    and hash without being parsed. The rest are parsed on every core
    (:func:`mailatlas_clean.parse_many`) while this process reads and writes, and are
    stored in input order, ``batch_size`` per commit.

    Args:
        store: an open, writable store.
        messages: raw messages (or unreadable sources) in the order to ingest them
            (:func:`eml_messages`, :func:`mbox_messages`, :func:`maildir_messages`, or
            your own reader).
        parser_config: the cleaning flags applied to every new document.
        run_kind: recorded with the run (``eml``, ``mbox``, ``maildir``).
        run_detail: extra detail recorded with the run (paths, flags).
        progress: called with the running totals after each message.
        batch_size: how many messages share one commit.
        workers: parser processes (``0``: parse in this process; default: cores - 1).

    Raises:
        IngestInterrupted: Ctrl-C; its ``result`` counts what was committed.
        StoreError: the store cannot be written (full, read-only, gone); batches
            committed before stay, and the run is recorded as interrupted.
    """
    result = IngestResult()
    run_id = store.start_run(run_kind, run_detail or {})
    outcomes = parse_many(_jobs(store, messages, result), parser_config, workers=workers)
    committed = _Committed()
    try:
        # Store each result as it arrives (pulling one result lets the parser pool take
        # the next chunk, so the workers never idle while this process writes), and
        # commit every ``batch_size`` messages.
        pending = 0
        with contextlib.ExitStack() as batch:

            def commit() -> None:
                nonlocal committed
                # A Ctrl-C that lands after COMMIT waits until the batch is counted.
                with interrupts_deferred():
                    batch.close()
                    committed = _Committed.of(result)
                    result.committed_count = result.ingested_count

            for job, outcome in outcomes:
                if pending == 0:
                    batch.enter_context(store.transaction())
                # The raw bytes go on with the message and its document, which the store
                # empties once written: the job must not hold them through the insert.
                message = job.tag
                if message.failure is None:
                    message.raw = job.raw  # the job held them (see _group_jobs)
                del job
                _apply(store, message, outcome, result, run_id)
                # Stored: hold no copy of the message into the commit, where SQLite
                # builds the search index (a large body's peak memory).
                del message, outcome
                pending += 1
                if progress is not None:
                    progress(result)
                if pending == batch_size:
                    commit()
                    pending = 0
            commit()  # the last, partial batch
    except BaseException as exc:
        # Committed batches stay (the open one was rolled back); record how far the run
        # got, but never mask the cause.
        committed.restore(result)
        with contextlib.suppress(Exception):
            store.finish_run(run_id, "interrupted", _run_summary(result))
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, IngestInterrupted):
            raise IngestInterrupted(result) from exc
        raise
    finally:
        with contextlib.suppress(Exception):
            outcomes.close()  # stops parser workers promptly on an interruption
    result.committed_count = result.ingested_count
    store.finish_run(run_id, result.status, _run_summary(result))
    return result


def _run_summary(result: IngestResult) -> dict[str, Any]:
    summary = result.to_dict(with_refs=False)
    del summary["document_refs"]  # counts only: one run can add millions of documents
    return summary


def ingest_paths(
    store: Store,
    kind: SourceKind,
    paths: PathsArg,
    parser_config: ParserConfig | None = None,
    *,
    progress: IngestProgress | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> IngestResult:
    """Ingest mail files into ``store``; return the run's summary.

    Args:
        store: an open, writable store (:func:`mailatlas_core.open_store`).
        kind: ``eml`` (files; a directory is walked for ``*.eml``), ``mbox`` (archives,
            streamed in constant memory) or ``maildir`` (folders with ``cur/``, ``new/``).
        paths: one path (``str`` or path-like) or an iterable of paths. A missing or
            unreadable one is a failure, not an error: the run goes on.
        parser_config: the cleaning flags and parse limits (default ``ParserConfig()``).
        progress, batch_size, workers: as for :func:`ingest_messages`.

    Raises:
        ValueError: an unknown ``kind``, or an empty path.
        TypeError: ``paths`` is neither a path nor an iterable of paths.
        IngestInterrupted: Ctrl-C; its ``result`` counts what was committed.
        StoreError: the store cannot be written (see :func:`ingest_messages`).
    """
    config = parser_config if parser_config is not None else ParserConfig()
    sources = as_paths(paths, "ingest_paths")
    if kind == "eml":
        messages = eml_messages(sources)
    elif kind == "mbox":
        messages = mbox_messages(sources, config.limits)
    elif kind == "maildir":
        messages = maildir_messages(sources)
    else:
        raise ValueError(f"kind must be 'eml', 'mbox' or 'maildir', not {kind!r}")
    detail = {
        "paths": [str(p.absolute()) for p in sources],
        "parser_config": dataclasses.asdict(config),
    }
    return ingest_messages(
        store,
        messages,
        config,
        run_kind=kind,
        run_detail=detail,
        progress=progress,
        batch_size=batch_size,
        workers=workers,
    )
