"""The dedupe and store steps every path from message to store shares (files and IMAP).

One rule for failures, whoever reads the mail:

* A message that cannot be read, parsed, or stored — a store error about that one
  message, such as :class:`~mailatlas_core._errors.DocumentTooLargeError`,
  :class:`~mailatlas_core._errors.UnsafePathError` or a file of its own that cannot be
  written — is recorded as a failure with its raw bytes, and the run goes on.
* A store that cannot be written at all stops the run with its one error: a full disk
  (:class:`~mailatlas_core._errors.StorageFullError`), or any store error raised while
  recording such a failure (read-only, gone, broken), which proves the store itself
  refuses writes. Committed batches stay.

A store's mutating calls are atomic on their own (the SQLite store nests them as
savepoints), so a refused message undoes only its own changes inside a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from mailatlas_core import (
    DocumentRef,
    ParsedDocument,
    SourceLocation,
    StorageFullError,
    Store,
    StoreError,
)
from mailatlas_core._heap import pin_mmap_threshold

from ..parser._peek import peek_message_id

if TYPE_CHECKING:
    from ..pool._pool import ParseFailure

__all__ = [
    "MessageToStore",
    "Stored",
    "known_copies_among",
    "known_copy",
    "store_message",
    "tally",
]

NOT_PARSED = "message was not parsed"


@dataclass(slots=True)
class MessageToStore:
    """What to store for one message, filled in as it moves through the pipeline.

    Exactly one of ``known_id`` (a stored copy: record this location on it),
    ``failure`` (why it cannot be stored; ``raw`` is kept with it) or ``parsed`` is set
    by the time :func:`store_message` sees it. A parsed document is handed to the
    store (``Store.add(consume=True)``): its raw bytes, HTML and asset bytes are emptied
    once written, and ``raw`` here is dropped when the document carries the same bytes.
    """

    location: SourceLocation
    raw: bytes | None = None
    known_id: str | None = None
    parsed: ParsedDocument | None = None
    failure: str | None = None

    def settle(self, outcome: ParsedDocument | ParseFailure | str | None) -> None:
        """Take the parser's answer: a document, or why there is none."""
        from ..pool._pool import ParseFailure  # loaded once something was parsed: not by a rerun

        if isinstance(outcome, ParsedDocument):
            self.parsed = outcome
        elif isinstance(outcome, ParseFailure):
            self.failure = outcome.reason or NOT_PARSED
        else:
            self.failure = outcome or NOT_PARSED


@dataclass(frozen=True, slots=True)
class Stored:
    """How one message ended: a new document (with its ref), a duplicate (of
    ``document_id``), or a failure (and why)."""

    kind: Literal["new", "duplicate", "failed"]
    document_id: str | None = None
    ref: DocumentRef | None = None
    reason: str | None = None


class _Counts(Protocol):
    ingested_count: int
    duplicate_count: int
    failed_count: int


class _Refs(Protocol):
    def append(self, ref: DocumentRef, /) -> None: ...


def tally(stored: Stored, counts: _Counts, refs: _Refs) -> None:
    """Count one outcome in a run's summary (an ingest's, a synced folder's)."""
    if stored.kind == "new":
        counts.ingested_count += 1
        if stored.ref is not None:
            refs.append(stored.ref)
    elif stored.kind == "duplicate":
        counts.duplicate_count += 1
    else:
        counts.failed_count += 1


def known_copy(store: Store, raw: bytes) -> str | None:
    """The dedupe step: the id of the stored copy of ``raw``, found without parsing it."""
    return store.known(peek_message_id(raw), raw)


def known_copies_among(store: Store, raws: Sequence[bytes]) -> list[str | None]:
    """:func:`known_copy` of each message, in order, looked up together (a store on a
    database server answers in two round trips, not two per message)."""
    return store.known_many([(peek_message_id(raw), raw) for raw in raws])


def store_message(store: Store, message: MessageToStore, run_id: int | None) -> Stored:
    """The store step for one message, under the failure rule of this module.

    Raises:
        StoreError: the store cannot be written at all (the run must stop).
    """
    if message.raw is not None:
        pin_mmap_threshold(len(message.raw))  # a large message in this process (_heap)
    if message.failure is not None:
        return _fail(store, message, message.failure, run_id)
    try:
        if message.known_id is not None:
            added = store.add_location(message.known_id, message.location)
        elif message.parsed is None:
            return _fail(store, message, NOT_PARSED, run_id)
        else:
            if message.raw is message.parsed.raw:
                message.raw = None  # the document carries them: handed over with it
            added = store.add(message.parsed, message.location, consume=True)
    except StorageFullError:
        raise
    except StoreError as exc:
        return _fail(store, message, str(exc), run_id)
    if added.is_new:
        return Stored("new", added.document_id, added.ref)
    return Stored("duplicate", added.document_id)


def _fail(store: Store, message: MessageToStore, reason: str, run_id: int | None) -> Stored:
    # A store error here is not about the message any more: it propagates.
    raw = message.raw
    if raw is None and message.parsed is not None:
        raw = message.parsed.raw or None  # the store gives it back on failure
    store.record_failure(message.location, reason, raw, run_id)
    return Stored("failed", reason=reason)
