"""The narrow store interface that ingest, sync and the CLI program against.

:class:`Store` is a :class:`typing.Protocol`: the SQLite + files implementation
(:class:`mailatlas_core._sqlite_store.SQLiteStore`) is one backend; a PostgreSQL +
object-storage backend can implement the same methods and nothing above this layer
changes. Open a store with :func:`mailatlas_core.open_store` (``_open``, which imports
the backends; this module imports none of them, so every backend can import it).

Transactions: every mutating call is atomic on its own. Wrap several in
``with store.transaction():`` to commit them together (one batch, one commit) — e.g.
an IMAP batch of documents, failures and the advanced cursor. Files are written
before their rows, so a crash never leaves a row without its files.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ._gmail import GmailMessage
from ._model import (
    AddResult,
    Asset,
    AssetText,
    DeletedDocument,
    Document,
    DocumentRef,
    FlagUpdate,
    ImapCursor,
    ParsedDocument,
    SourceLocation,
    StoredFailure,
    StoreStats,
)
from ._threads import Thread
from ._work import WorkItem, WorkState

if TYPE_CHECKING:
    from ._blobs import BlobStore

__all__ = ["ListFilter", "Store", "is_postgres_url", "is_s3_url", "sqlite_path"]


@dataclass(frozen=True, slots=True)
class ListFilter:
    """Filters for :meth:`Store.list_documents`.

    ``since``/``until`` are UTC ISO-8601 strings (read user input with
    :func:`mailatlas_core._dates.parse_date_filter`), compared with ``date_field``:
    ``sent`` (``published_at``, the Date header, or the arrival time when a message has
    none) or ``received`` (``received_at``, the arrival time). ``query`` uses the search
    syntax of :mod:`mailatlas_core._query`. ``sender`` is an address, a domain or part
    of the display name; ``to``/``cc`` an address in that role; ``message_id`` with or
    without angle brackets.

    ``flagged``, ``unread`` and ``keyword`` (case-insensitive) look at the current flags
    of the document's live IMAP locations (in ``folder``, if given): one location must
    be ``\\Flagged``, lack ``\\Seen``, and carry the keyword, all at once.
    """

    query: str | None = None
    limit: int = 50
    offset: int = 0
    since: str | None = None
    until: str | None = None
    sender: str | None = None
    source_kind: str | None = None
    folder: str | None = None
    thread_id: str | None = None
    to: str | None = None
    cc: str | None = None
    message_id: str | None = None
    date_field: str = "sent"
    flagged: bool = False
    unread: bool = False
    keyword: str | None = None


class Store(Protocol):
    """What every MailAtlas store backend provides."""

    @property
    def blobs(self) -> BlobStore:
        """Where the store keeps raw messages, HTML and assets (read them through it:
        ``Document.raw_key``, ``Document.body_html_key``, ``Asset.key``)."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group the calls inside into one atomic commit (re-entrant)."""

    def known(self, message_id: str | None, raw: bytes) -> str | None:
        """The id of the stored copy of ``raw``, else ``None``.

        A copy has the same raw bytes, or the same Message-ID *and* the same Date, From,
        Subject and body (:func:`~mailatlas_core._ids.fingerprint`): a Message-ID alone is
        a sender's claim. Cheap: lets callers skip parsing a message that is stored.
        """

    def known_many(self, messages: Sequence[tuple[str | None, bytes]]) -> list[str | None]:
        """:meth:`known` of each (Message-ID, raw bytes), in order, in two lookups for the
        lot (a store on a database server answers each lookup in one round trip)."""

    def known_copies(
        self, heads: Iterable[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], str]:
        """Which (Message-ID, headers hash, size) triples are stored copies, and of what.

        What an IMAP probe sees of a message before downloading its body: a stored
        document matches only with the same Message-ID,
        :func:`~mailatlas_core._ids.headers_hash` (Date, From, Subject) and raw size.
        """

    def known_message_ids(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Map each already-stored normalised Message-ID to its document id."""

    def add(
        self, parsed: ParsedDocument, location: SourceLocation, *, consume: bool = False
    ) -> AddResult:
        """Store a parsed message seen at ``location``, or record a duplicate.

        Insert-or-ignore on the raw hash, or the normalised Message-ID with the
        fingerprint: under concurrent writers exactly one document results. A duplicate's
        new location is recorded on the existing document. A different message with a
        stored Message-ID is stored as its own document, and the two are linked in
        ``metadata.message_id_conflict``.

        ``consume=True`` is for a caller that hands the document over and holds no other
        reference to its raw bytes, HTML or asset bytes (the ingest and sync pipelines):
        the store empties ``parsed.raw``, ``parsed.body_html`` and each asset's ``data``
        as soon as their files are written, so a large message is not held twice while
        its row is inserted. If the
        add then fails, ``parsed.raw`` is given back for the caller's failure record.
        """

    def add_location(self, document_id: str, location: SourceLocation) -> AddResult:
        """Record that a stored document was also seen at ``location`` (a duplicate)."""

    def add_locations(self, seen: Sequence[tuple[str, SourceLocation]]) -> None:
        """:meth:`add_location` for each (document id, location), in one transaction: all
        are recorded or none (a failure raises, e.g. ``StoreError`` for an unknown id).

        For many duplicates at once (a folder re-found after a UIDVALIDITY change): no
        result per location is built, and nothing is read back.
        """

    def set_gmail(self, document_id: str, message: GmailMessage) -> None:
        """Keep Gmail's ids and labels of a stored document in ``metadata.gmail``
        (:func:`~mailatlas_core._gmail.merge_gmail`: one entry per account, replaced)."""

    def record_failure(
        self, location: SourceLocation, reason: str, raw: bytes | None, run_id: int | None = None
    ) -> str:
        """Keep a message that could not be processed: its reason and raw bytes. Returns its id."""

    def get_document(self, document_id: str) -> Document:
        """One document with its assets and locations; ``DocumentNotFoundError`` if absent."""

    def get_thread(self, thread_id: str) -> Thread:
        """The conversation with this thread id, or the one the document with this id
        is in, as a tree (:mod:`mailatlas_core._threads`); ``ThreadNotFoundError`` if neither."""

    def get_asset(self, asset_id: str) -> Asset:
        """One asset with the text read from it (``asset.text``: status, error, and the
        text itself); ``asset.text`` is ``None`` for assets stored before text extraction.
        ``DocumentNotFoundError`` if there is no such asset."""

    def assets_without_text(self, limit: int = 100) -> list[Asset]:
        """Up to ``limit`` assets with no text reading (stored before MailAtlas read
        attachment text), in document order."""

    def save_asset_text(self, asset_id: str, text: AssetText) -> None:
        """Record the text read from a stored asset that has none yet; an asset that has
        one keeps it."""

    def list_documents(self, flt: ListFilter | None = None) -> list[DocumentRef]:
        """Document refs, newest first (by received date), filtered and paged.

        With ``flt.query``, each ref says where the query matched: ``matched_in`` holds
        ``body`` (the message: subject, people, body) and/or ``attachment``, and
        ``matched_asset_ids`` the assets whose text matched. A document seen on an IMAP
        server carries ``imap_flags``: folder -> the flags and keywords (sorted) of its
        live location there, as of the last sync.
        """

    def count_documents(self, flt: ListFilter | None = None) -> int:
        """How many documents are stored (that match ``flt``, limit and offset aside)."""

    def get_cursor(self, host: str, port: int, username: str, folder: str) -> ImapCursor | None:
        """The stored cursor of one IMAP folder, if any."""

    def save_cursor(self, cursor: ImapCursor) -> None:
        """Create or replace the cursor of one IMAP folder."""

    def imap_flags(
        self, cursor: ImapCursor, first_uid: int, last_uid: int
    ) -> dict[int, tuple[str, ...] | None]:
        """UID -> stored flags (keywords included, sorted) of a folder's live locations.

        The folder is ``cursor``'s (host, port, username, folder, UIDVALIDITY); UIDs from
        ``first_uid`` to ``last_uid``. ``None`` for a location whose flags are not known.
        """

    def count_imap_locations(self, cursor: ImapCursor, last_uid: int) -> int:
        """How many live locations ``cursor``'s folder has at or below ``last_uid``."""

    def update_flags(self, cursor: ImapCursor, updates: Iterable[FlagUpdate]) -> list[str]:
        """Record the current flags and MODSEQ of live locations of ``cursor``'s folder.

        Returns the ids of the documents whose flags changed (one per changed location).
        """

    def mark_removed(self, cursor: ImapCursor, uids: Iterable[int]) -> list[str]:
        """Mark these UIDs of ``cursor``'s folder gone (``removed_at`` = now).

        Returns the ids of the documents that lost a live location.
        """

    def retire_uidvalidity(self, cursor: ImapCursor) -> list[str]:
        """Mark gone every live location of the folder under another UIDVALIDITY."""

    def deleted_on_server(self, host: str, port: int, username: str) -> list[str]:
        """Ids of this mailbox's documents that have no live location left."""

    def start_run(self, kind: str, detail: dict[str, Any]) -> int:
        """Record the start of an ingest or sync run; returns its id."""

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended."""

    def iter_failures(self) -> Iterator[dict[str, Any]]:
        """Every recorded failure: source, reason, raw path, run, time."""

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        """Recorded failures, newest first, with the run each belongs to."""

    def count_failures(self, *, run_id: int | None = None) -> int:
        """How many failures are recorded (in one run, if given)."""

    def stats(self) -> StoreStats:
        """Counts, sizes on disk, and documents per source kind and per folder."""

    def delete_document(self, document_id: str) -> DeletedDocument:
        """Delete a document, its rows and search entry, then the files the store wrote."""

    # -- the work queue of `mailatlas worker` (see mailatlas_core._work) ---------------------

    def enqueue_work(self, items: Iterable[tuple[str, str, int]]) -> int:
        """Queue (account, folder, max_connections) items for a sync pass: new items and
        ``done``/``failed`` ones become ``pending``, ``pending``/``leased`` ones stay.
        Returns how many items are pending afterwards."""

    def claim_work(
        self,
        owner: str,
        lease_seconds: float,
        *,
        accounts: Collection[str] | None = None,
        max_attempts: int | None = None,
    ) -> WorkItem | None:
        """Atomically lease one free item (``pending``, or ``leased`` with an expired
        lease) whose account has fewer live leases than its ``max_connections``; no two
        callers ever get the same item. An expired item claimed ``max_attempts`` times
        already is marked ``failed`` instead. ``None`` when nothing can be taken now."""

    def renew_lease(self, account: str, folder: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease (a heartbeat); ``False`` if ``owner`` lost it."""

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
        """End ``owner``'s lease with the item ``done``, ``failed`` or ``pending``;
        ``False`` if ``owner`` no longer held it (nothing is changed then)."""

    def list_work(self, *, accounts: Collection[str] | None = None) -> list[WorkItem]:
        """Every item of the work queue (of ``accounts`` if given), by account, folder."""

    def close(self) -> None:
        """Release the connection."""


def is_postgres_url(value: str) -> bool:
    """True for ``postgresql://...`` and ``postgres://...``."""
    return value.startswith(("postgresql://", "postgres://"))


def is_s3_url(value: str) -> bool:
    """True for ``s3://...``."""
    return value.startswith("s3://")


def sqlite_path(value: str) -> str:
    """The file of an SQLite ``--db``: a path, or ``sqlite:///abs/path`` (``sqlite://``
    followed by the path; ``sqlite:///store.db`` is ``/store.db``)."""
    return value.removeprefix("sqlite://") if value.startswith("sqlite://") else value
