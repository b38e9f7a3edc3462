"""The persistence half of a store: what a database backend must provide.

A store is two layers (see /docs/architecture.md, "The store seam"):

* the policy, one class for every backend (:class:`mailatlas_core._docstore.DocumentStore`,
  which implements :class:`mailatlas_core._store.Store`): it computes document ids,
  the dedupe order (raw hash, then Message-ID + fingerprint), thread ids, failure ids
  and Message-ID conflict links, and writes a document's blobs (through a
  :class:`~mailatlas_core._blobs.BlobStore`) *before* its rows;
* a :class:`Backend` (SQLite, PostgreSQL): rows only. It never decides an id, a thread
  or whether two messages are the same; it stores what it is given and reports, through
  its UNIQUE constraints, when a row is already there.

Paths in rows are blob keys (``raw/<sha256>.eml``, ``html/<id>.html``,
``assets/<id>/<name>``), never absolute paths; the policy turns them into locations.
A read returns :class:`~mailatlas_core._model.Document` / ``StoredFailure`` objects whose
path fields still hold those keys.

Errors: every method raises :class:`~mailatlas_core._errors.StoreError` (or a subclass)
for a database failure, never the driver's own exception.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ._metadata import DocumentMetadata, SourceMetadata
from ._model import (
    Asset,
    AssetText,
    Document,
    DocumentRef,
    FlagUpdate,
    ImapCursor,
    SourceKind,
    SourceLocation,
    StoredFailure,
)
from ._store import ListFilter
from ._threads import ThreadMessage
from ._work import WorkItem, WorkState

__all__ = [
    "AssetRow",
    "Backend",
    "Candidates",
    "DocumentRow",
    "FailureRow",
    "RunRow",
    "StoredPrint",
]


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One ``documents`` row, as the policy computed it."""

    id: str
    source_kind: SourceKind
    message_id: str | None
    thread_id: str | None
    subject: str
    sender_name: str | None
    sender_email: str | None
    author: str | None
    received_at: str | None
    published_at: str | None
    body_text: str
    body_html_path: str | None  # blob key
    raw_path: str  # blob key
    content_hash: str  # sha256 of the raw bytes; UNIQUE
    #: The metadata as stored: ``_json.dumps`` of the dict (the store builds the text).
    metadata_json: str
    created_at: str
    in_reply_to: str | None
    recipients: str  # To/Cc/Bcc as searched (see _rows.recipients_text)
    headers_hash: str
    body_hash: str
    raw_size: int
    #: Its parent chain (:func:`~mailatlas_core._threads.parent_chain`), oldest first:
    #: kept so that threads can be rebuilt when messages arrive or go.
    thread_chain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One ``assets`` row; ``file_path`` is a blob key."""

    id: str
    document_id: str
    ordinal: int
    kind: str
    mime_type: str
    file_path: str
    cid: str | None
    sha256: str
    filename: str
    size: int
    text: AssetText | None = None  # what was read from the file (issue 17)


@dataclass(frozen=True, slots=True)
class StoredPrint:
    """What the dedupe policy needs to know of a stored document with a Message-ID.

    ``headers_hash``/``body_hash``/``raw_size`` are ``None`` for documents stored before
    fingerprints were kept; the policy then reads the raw blob at ``raw_path``.
    """

    id: str
    message_id: str
    headers_hash: str | None
    body_hash: str | None
    raw_size: int | None
    raw_path: str


@dataclass(frozen=True, slots=True)
class Candidates:
    """What an add must know of the stored documents before it writes, found at once
    (:meth:`Backend.candidates`)."""

    #: The id of the document with the same raw bytes; when set, the rest is empty.
    same_bytes: str | None
    #: Every stored document with the message's Message-ID, oldest first.
    prints: list[StoredPrint]
    #: :meth:`Backend.thread_ids_naming` of the names asked for.
    threads: set[str]


@dataclass(frozen=True, slots=True)
class FailureRow:
    """One ``failures`` row; ``raw_path`` is a blob key (``failures/<sha256>.eml``)."""

    id: str
    run_id: int | None
    kind: str
    source: str
    location: SourceMetadata
    reason: str
    raw_path: str | None
    content_hash: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run still marked ``running`` (for :meth:`Backend.running_runs`)."""

    id: int
    detail: dict[str, Any]


class Backend(Protocol):
    """Rows only: documents, assets, locations, failures, runs, cursors, search.

    Transactions: :meth:`transaction` is re-entrant; a nested block is a savepoint, so a
    failed inner block (one message) undoes only its own rows. Every mutating method
    outside a transaction commits on its own. Concurrent writers (other processes, other
    hosts for a server database) are expected: UNIQUE constraints decide, never a
    read-then-write race.
    """

    # -- life cycle ------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        """Group the calls inside into one atomic commit (re-entrant, nested = savepoint)."""

    def close(self) -> None:
        """Release the connection."""

    def size_bytes(self) -> int:
        """Bytes the database takes (``mailatlas stats``); 0 where unknown."""

    # -- dedupe lookups (inputs of the policy) ---------------------------------------------

    def id_by_content_hash(self, raw_hash: str) -> str | None:
        """The id of the document whose raw bytes have this sha256, if any."""

    def ids_by_content_hash(self, raw_hashes: Iterable[str]) -> dict[str, str]:
        """Map each of these raw sha256 hashes that is stored to its document's id."""

    def prints_by_message_id(self, message_ids: Iterable[str]) -> list[StoredPrint]:
        """Every stored document with one of these normalised Message-IDs, oldest first."""

    def ids_by_message_id(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Map each stored normalised Message-ID to a document id (the oldest)."""

    def candidates(
        self, raw_hash: str, message_id: str | None, thread_names: Sequence[str] = ()
    ) -> Candidates:
        """:meth:`id_by_content_hash`, and unless it finds one, :meth:`prints_by_message_id`
        of ``message_id`` and :meth:`thread_ids_naming` of ``thread_names``: everything an
        add reads before it writes, in one round trip where the database is a server."""

    def thread_of(self, document_id: str) -> str | None:
        """The thread id of a stored document."""

    # -- threads (the policy rebuilds them with mailatlas_core._threads.build_threads) ------

    def thread_ids_naming(self, message_ids: Sequence[str]) -> set[str]:
        """Thread ids of the stored documents with one of these Message-IDs, or whose
        stored ``thread_chain`` names one."""

    def thread_members(
        self, thread_ids: Iterable[str]
    ) -> tuple[list[ThreadMessage], dict[str, str | None]]:
        """Every stored document of these threads as a ``ThreadMessage`` (its chain from
        ``thread_chain``), and each one's stored thread id (document id -> thread id)."""

    def set_thread_ids(self, changes: Sequence[tuple[str, str]]) -> None:
        """Write (thread id, document id) pairs."""

    # -- document writes -------------------------------------------------------------------

    def claim(self, document_id: str) -> None:
        """Make writers of this document id take turns until the transaction ends.

        Called first in an add's transaction, before its blobs are written: two writers
        of one Message-ID (a copy, or a different message claiming it) must not both
        write ``html/<id>.html`` and ``assets/<id>/``. SQLite needs nothing (``BEGIN
        IMMEDIATE`` already serialises writers); PostgreSQL takes
        ``pg_advisory_xact_lock`` on the id, sent with the statement that follows (the
        policy's :meth:`candidates`, before any blob is written) in one round trip.
        """

    def insert_document(
        self, row: DocumentRow, assets: Sequence[AssetRow], location: SourceLocation
    ) -> str | None:
        """Insert a document, its assets, its first location, its thread chain and its
        search entry.

        Returns ``None`` when inserted. When a document with the same ``id`` or
        ``content_hash`` already exists (a concurrent writer won), nothing is written and
        the id of that document is returned; the enclosing transaction stays usable.
        """

    def insert_location(self, document_id: str, location: SourceLocation, seen_at: str) -> None:
        """Record that a stored document was (also) seen at ``location``; a location
        already recorded for it is ignored."""

    def get_metadata(self, document_id: str) -> DocumentMetadata | None:
        """A document's ``metadata`` object (``None`` if there is no such document)."""

    def set_metadata(self, document_id: str, metadata: DocumentMetadata) -> None:
        """Replace a document's ``metadata`` object."""

    def delete_document(self, document_id: str) -> list[str]:
        """Delete a document's rows (assets, locations, search entry with it).

        Returns the blob keys its rows referred to (raw, HTML, assets, in that order);
        the policy removes those blobs after the commit.

        Raises:
            DocumentNotFoundError: there is no document with this id.
        """

    # -- failures, runs, cursors -----------------------------------------------------------

    def upsert_failure(self, failure: FailureRow) -> None:
        """Insert a failure, or replace the one with the same id."""

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        """Failures, newest first (``raw_path`` a blob key)."""

    def count_failures(self, *, run_id: int | None = None) -> int:
        """How many failures are recorded (in one run, if given)."""

    def iter_failures(self) -> Iterator[FailureRow]:
        """Every failure, oldest first."""

    def start_run(self, kind: str, detail: dict[str, Any], started_at: str) -> int:
        """Insert a run (status ``running``); returns its id."""

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any], at: str) -> None:
        """Record how a run ended."""

    def running_runs(self) -> list[RunRow]:
        """Runs still marked ``running``."""

    def interrupt_runs(self, run_ids: Sequence[int], summary: dict[str, Any], at: str) -> None:
        """Mark these runs ``interrupted`` (if still ``running``)."""

    def get_cursor(self, host: str, port: int, username: str, folder: str) -> ImapCursor | None:
        """The stored cursor of one IMAP folder, if any."""

    def save_cursor(self, cursor: ImapCursor, at: str) -> None:
        """Create or replace the cursor of one IMAP folder (``updated_at`` = ``at``)."""

    # -- a living mailbox (flags, removals; see mailatlas_core._live) ----------------------
    # The same methods and semantics as on Store: persistence only.

    def imap_flags(
        self, cursor: ImapCursor, first_uid: int, last_uid: int
    ) -> dict[int, tuple[str, ...] | None]:
        """See :meth:`mailatlas_core._store.Store.imap_flags`."""

    def count_imap_locations(self, cursor: ImapCursor, last_uid: int) -> int:
        """See :meth:`mailatlas_core._store.Store.count_imap_locations`."""

    def update_flags(self, cursor: ImapCursor, updates: Iterable[FlagUpdate]) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.update_flags`."""

    def mark_removed(self, cursor: ImapCursor, uids: Iterable[int]) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.mark_removed`."""

    def retire_uidvalidity(self, cursor: ImapCursor) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.retire_uidvalidity`."""

    def deleted_on_server(self, host: str, port: int, username: str) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.deleted_on_server`."""

    def live_imap_flags(self, document_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
        """Document id -> folder -> sorted flags and keywords of its live IMAP locations
        whose flags are known (what ``list`` shows as ``imap_flags``)."""

    # -- reads -----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """One document with assets (with their text summaries) and locations (paths
        are blob keys).

        Raises:
            DocumentNotFoundError: there is no document with this id.
        """

    def get_asset(self, asset_id: str) -> Asset:
        """One asset with its text (``file_path`` a blob key); ``DocumentNotFoundError``
        if there is no such asset."""

    def get_ref(self, document_id: str) -> DocumentRef:
        """The short form of one document (``DocumentNotFoundError`` if absent)."""

    def assets_without_text(self, limit: int = 100) -> list[Asset]:
        """Assets with no text reading, in document order (``file_path`` a blob key)."""

    def save_asset_text(self, asset_id: str, text: AssetText) -> None:
        """Record the text of an asset that has none yet (else nothing)."""

    def list_documents(self, flt: ListFilter) -> list[DocumentRef]:
        """Refs matching ``flt``, newest first (by received date), paged; with a query,
        each ref says where it matched (``matched_in``, ``matched_asset_ids``)."""

    def count_documents(self, flt: ListFilter) -> int:
        """How many documents match ``flt`` (limit and offset aside)."""

    def counts(self) -> dict[str, Any]:
        """The database half of ``StoreStats``: documents, assets, asset_bytes,
        locations, failures, runs, by_source_kind, by_folder, oldest, newest."""

    # -- the work queue (leases; see mailatlas_core._work) ----------------------------------
    # The same methods and semantics as on Store: they are persistence only (the caller
    # gives max_attempts), so the policy passes them through. SQLite serialises claims
    # with BEGIN IMMEDIATE; PostgreSQL with FOR UPDATE SKIP LOCKED plus a per-account
    # lock, so that an account's connection limit holds across concurrent claims.

    def enqueue_work(self, items: Iterable[tuple[str, str, int]]) -> int:
        """See :meth:`mailatlas_core._store.Store.enqueue_work`."""

    def claim_work(
        self,
        owner: str,
        lease_seconds: float,
        *,
        accounts: Collection[str] | None = None,
        max_attempts: int | None = None,
    ) -> WorkItem | None:
        """See :meth:`mailatlas_core._store.Store.claim_work`."""

    def renew_lease(self, account: str, folder: str, owner: str, lease_seconds: float) -> bool:
        """See :meth:`mailatlas_core._store.Store.renew_lease`."""

    def release_work(
        self,
        account: str,
        folder: str,
        owner: str,
        state: WorkState,
        *,
        error: str | None = None,
        run_id: int | None = None,
    ) -> bool:
        """See :meth:`mailatlas_core._store.Store.release_work`."""

    def list_work(self, *, accounts: Collection[str] | None = None) -> list[WorkItem]:
        """See :meth:`mailatlas_core._store.Store.list_work`."""
