"""The store's policy, one class for every backend: :class:`DocumentStore`.

It implements :class:`mailatlas_core._store.Store` over a
:class:`~mailatlas_core._backend.Backend` (rows) and a
:class:`~mailatlas_core._blobs.BlobStore` (bytes), and decides everything they must not:

* **ids** (:mod:`mailatlas_core._ids`): a document's id from its Message-ID or raw hash;
  a failure's from its location and raw hash;
* **dedupe order**: a message is a stored copy when it has the same raw bytes, else the
  same Message-ID *and* the same :class:`~mailatlas_core._ids.Fingerprint` (Date, From,
  Subject and body). A Message-ID alone proves nothing: anyone can send a message with
  someone else's. Two different messages with one Message-ID are both stored (the
  second under :func:`~mailatlas_core._ids.conflict_document_id`) and linked through
  ``metadata.message_id_conflict``;
* **threads** (:mod:`mailatlas_core._threads`): a message's thread is rebuilt with the
  stored threads it touches (a late parent re-roots, a linking message merges two);
* **blobs before rows**: raw bytes (content-addressed, ``raw/<sha256>.eml``: a retry or a
  concurrent writer of the same message writes the same blob, never a second one), HTML
  and assets are written before the transaction that inserts their rows, so a crash
  never leaves a row without its blob.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from ._backend import AssetRow, Backend, Candidates, DocumentRow, FailureRow, StoredPrint
from ._blobs import BlobStore
from ._dates import utc_now_iso
from ._errors import StoreError, ThreadNotFoundError
from ._gmail import GmailMessage, merge_gmail
from ._heap import release_after
from ._ids import (
    Fingerprint,
    conflict_document_id,
    content_hash,
    fingerprint,
    header_block,
    headers_hash,
)
from ._json import dumps
from ._metadata import STORE_KEYS, DocumentMetadata, MessageIdConflict
from ._model import (
    AddResult,
    Asset,
    AssetData,
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
from ._rows import recipients_text
from ._store import ListFilter
from ._threads import (
    Thread,
    ThreadMessage,
    build_threads,
    lone_thread_id,
    parent_chain,
    thread_changes,
)
from ._work import WorkItem, WorkState
from ._workspace import check_component, pid_alive

__all__ = ["ASSET_SCHEME", "DocumentStore", "conflict_metadata", "link_assets", "raw_key"]

Match = tuple[str | None, list[str]]
"""The stored copy of a message (or None), and the other documents with its Message-ID."""


#: How stored HTML refers to an asset: ``mailatlas-asset:<asset id>``.
ASSET_SCHEME = "mailatlas-asset"


def link_assets(
    html: str, parser_id: str, parsed: Sequence[AssetData], stored: Sequence[AssetRow]
) -> str:
    """Rewrite the parser's ``../assets/<parser_id>/<name>`` links to ``mailatlas-asset:<id>``.

    ``parsed`` and ``stored`` are the same assets in the same order. A link to a name
    that is no asset is left as it is (exporters drop it).
    """
    prefix = f"../assets/{parser_id}/"
    if prefix not in html:
        return html
    ids = {asset.filename: row.id for asset, row in zip(parsed, stored, strict=True)}

    def by_id(match: re.Match[str]) -> str:
        asset_id = ids.get(unquote(match[1]))
        return match[0] if asset_id is None else f"{ASSET_SCHEME}:{asset_id}"

    return re.sub(re.escape(prefix) + r"""([^"'()\s<>]+)""", by_id, html)


@dataclasses.dataclass(frozen=True, slots=True)
class _Sizes:
    """What an add takes from the raw bytes before it may let them go (``consume``)."""

    print_: Fingerprint
    raw_size: int
    consume: bool


def raw_key(raw_hash: str) -> str:
    """The blob key of a raw message: content-addressed by its sha256."""
    return f"raw/{raw_hash}.eml"


class DocumentStore:
    """The :class:`~mailatlas_core._store.Store` of every backend: policy over rows and blobs."""

    def __init__(
        self, backend: Backend, blobs: BlobStore, *, create: bool = True, check_blobs: bool = True
    ) -> None:
        self.backend = backend
        self._depth = 0
        self.blobs = blobs
        if create:
            try:
                if check_blobs:
                    blobs.prepare()
                self.recover_interrupted()
            except BaseException:
                backend.close()
                raise

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the calls inside into one commit. Re-entrant; rolls back on error.

        A nested block is a savepoint: if it fails, only its own changes are undone and
        the enclosing batch goes on (one rejected message never costs its batch).
        """
        with self.backend.transaction():
            outer = self._depth
            try:  # restored whatever happens, even a Ctrl-C landing at any bytecode
                self._depth = outer + 1
                yield
            finally:
                self._depth = outer
            if not outer:
                # Blobs before rows: every blob put in this transaction is stored before
                # its rows commit (an S3 blob store uploads several at once meanwhile).
                self.blobs.flush()

    # -- dedupe ----------------------------------------------------------------------------

    def known(self, message_id: str | None, raw: bytes) -> str | None:
        """The id of the stored copy of ``raw`` (same bytes, or same Message-ID and
        fingerprint), else ``None``. Cheap: no parse; the fingerprint is only taken when
        a document with this Message-ID but other bytes is stored."""
        return self._match(message_id, content_hash(raw), lambda: fingerprint(raw))[0]

    def known_many(self, messages: Sequence[tuple[str | None, bytes]]) -> list[str | None]:
        """:meth:`known` of each (Message-ID, raw bytes), in order: one lookup of the raw
        hashes and one of the Message-IDs for the lot."""
        hashes = [content_hash(raw) for _mid, raw in messages]
        by_hash = self.backend.ids_by_content_hash(hashes)
        prints: dict[str, list[StoredPrint]] = {}
        wanted = (mid for (mid, _raw), h in zip(messages, hashes, strict=True) if h not in by_hash)
        for row in self.backend.prints_by_message_id(m for m in wanted if m):
            prints.setdefault(row.message_id, []).append(row)
        found: list[str | None] = []
        for (mid, raw), raw_hash in zip(messages, hashes, strict=True):
            same = by_hash.get(raw_hash)
            rows = prints.get(mid, []) if same is None and mid else []
            print_of = functools.partial(fingerprint, raw)
            found.append(self._matched(Candidates(same, rows, set()), print_of)[0])
        return found

    def known_copies(
        self, heads: Iterable[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], str]:
        """Which messages, seen only by their headers, are stored copies (no body needed).

        ``heads`` holds (normalised Message-ID, :func:`~mailatlas_core._ids.headers_hash`
        of Date, From and Subject, size in bytes). One maps to a stored document only when
        that document has the same Message-ID, headers hash and raw size; anything else
        must be downloaded and compared in full.
        """
        wanted = set(heads)
        found: dict[tuple[str, str, int], str] = {}
        for stored in self.backend.prints_by_message_id(mid for mid, _, _ in wanted):
            head = self._stored_head(stored)
            key = None if head is None else (stored.message_id, *head)
            if key in wanted:
                found.setdefault(key, stored.id)
        return found

    def known_message_ids(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Map each already-stored normalised Message-ID to its document id."""
        return self.backend.ids_by_message_id(message_ids)

    def _match(
        self, message_id: str | None, raw_hash: str, print_of: Callable[[], Fingerprint]
    ) -> Match:
        return self._matched(self.backend.candidates(raw_hash, message_id), print_of)

    def _matched(self, found: Candidates, print_of: Callable[[], Fingerprint]) -> Match:
        if found.same_bytes is not None:
            return found.same_bytes, []
        rows = found.prints
        if not rows:
            return None, []
        mine = print_of()
        for r in rows:
            if self._stored_print(r) == mine:
                return r.id, []
        return None, [r.id for r in rows]

    def _stored_print(self, row: StoredPrint) -> Fingerprint | None:
        if row.headers_hash and row.body_hash:
            return Fingerprint(row.headers_hash, row.body_hash)
        raw = self._stored_raw(row.raw_path)  # a row stored before fingerprints
        return None if raw is None else fingerprint(raw)

    def _stored_head(self, row: StoredPrint) -> tuple[str, int] | None:
        if row.headers_hash and row.raw_size is not None:
            return row.headers_hash, int(row.raw_size)
        raw = self._stored_raw(row.raw_path)
        return None if raw is None else (headers_hash(header_block(raw)), len(raw))

    def _stored_raw(self, key: str) -> bytes | None:
        try:
            return self.blobs.get(key)
        except StoreError:
            return None  # a damaged store: treat as a different message, lose nothing

    # -- writes ----------------------------------------------------------------------------

    def add(
        self, parsed: ParsedDocument, location: SourceLocation, *, consume: bool = False
    ) -> AddResult:
        """Store a parsed message, or record the location of the stored copy it is.

        Insert-or-ignore on the raw hash, or the normalised Message-ID with the
        fingerprint: under concurrent writers exactly one document results. A message
        with the Message-ID of a stored, different message is stored too, under
        :func:`conflict_document_id`, and both are linked through
        ``metadata.message_id_conflict``.

        ``consume=True`` hands the document over (see :meth:`Store.add`): its raw bytes,
        HTML and asset bytes are emptied once their blobs are written, so a large message
        is not held twice while its row is inserted; if the add fails, ``parsed.raw`` is
        given back (read from its blob) for the caller's failure record.
        """
        print_ = parsed.fingerprint or fingerprint(parsed.raw)
        raw_size = len(parsed.raw)
        chain = parent_chain(parsed.message_id, parsed.references, parsed.in_reply_to)
        names = [*chain, *([parsed.message_id] if parsed.message_id else [])]
        for _attempt in range(3):
            written: list[str] = []  # blobs this attempt created: removed if it fails
            try:
                with self.transaction():
                    self.backend.claim(parsed.id)  # writers of this Message-ID take turns
                    # One lookup: the stored copy, the documents with this Message-ID,
                    # and the stored threads this message joins (if it is new).
                    found = self.backend.candidates(parsed.content_hash, parsed.message_id, names)
                    existing, others = self._matched(found, lambda: print_)
                    if existing is not None:
                        return self._add_location(existing, location)
                    if consume and parsed.raw == b"" and raw_size:
                        break  # emptied by an attempt that lost a race: cannot insert again
                    doc_id = parsed.id
                    if parsed.message_id and others:
                        doc_id = conflict_document_id(parsed.message_id, print_)
                    threading = ThreadMessage(
                        document_id=doc_id,
                        message_id=parsed.message_id,
                        chain=chain,
                        fallback=parsed.content_hash,
                        date=parsed.published_at or parsed.received_at or "",
                        subject=parsed.subject or "",
                        sender=parsed.sender_email,
                    )
                    added = self._insert(
                        parsed,
                        location,
                        _Sizes(print_, raw_size, consume),
                        threading,
                        found.threads,
                        others,
                        written,
                    )
                    if added is not None:
                        if parsed.message_id and others:
                            self._link_conflict(doc_id, parsed.message_id, others)
                        return added
            except BaseException:
                if consume and parsed.raw == b"" and raw_size:
                    self._give_back(parsed)  # before its blob may be removed
                # A refused add (too large for the database, an error at commit) must
                # not leave its raw message behind as an orphan blob.
                self._forget(written, parsed.content_hash)
                raise
            # A concurrent writer stored this message, or another one under this id,
            # first (a backend without claim): match again, now that it is visible.
        if consume and parsed.raw == b"" and raw_size:
            self._give_back(parsed)
        raise StoreError(f"cannot store message from {location.key()}: the store keeps changing")

    def _give_back(self, parsed: ParsedDocument) -> None:
        """Put a consumed document's raw bytes back (best effort: on a store error the
        caller's failure record goes without them)."""
        with contextlib.suppress(StoreError):
            parsed.raw = self.blobs.get(raw_key(parsed.content_hash))

    def _forget(self, keys: list[str], raw_hash: str) -> None:
        """Remove the blobs of an add that failed, unless its document was committed
        after all (an interrupt landing just after the commit). Best effort: the error
        that is being raised is what matters, and on doubt the blob stays."""
        if not keys:
            return
        with contextlib.suppress(StoreError):
            if self.backend.id_by_content_hash(raw_hash) is not None:
                return
            for key in keys:
                self.blobs.delete(key)

    def set_gmail(self, document_id: str, message: GmailMessage) -> None:
        """Keep Gmail's ids and labels of a document in ``metadata.gmail``
        (:func:`~mailatlas_core._gmail.merge_gmail`: one entry per account, replaced)."""
        with self.transaction():
            metadata = self.backend.get_metadata(document_id)
            if metadata is not None:
                self.backend.set_metadata(document_id, merge_gmail(metadata, message))

    def add_location(self, document_id: str, location: SourceLocation) -> AddResult:
        """Record that a stored document was also seen at ``location``."""
        with self.transaction():
            return self._add_location(document_id, location)

    def add_locations(self, seen: Sequence[tuple[str, SourceLocation]]) -> None:
        """Record each (document id, location) in one transaction: all or none."""
        if not seen:
            return
        at = utc_now_iso()
        with self.transaction():
            for document_id, location in seen:
                self.backend.insert_location(document_id, location, at)

    def _add_location(self, document_id: str, location: SourceLocation) -> AddResult:
        self.backend.insert_location(document_id, location, utc_now_iso())
        return AddResult(
            document_id=document_id, is_new=False, ref=self.backend.get_ref(document_id)
        )

    def _insert(
        self,
        parsed: ParsedDocument,
        location: SourceLocation,
        sizes: _Sizes,
        threading: ThreadMessage,
        touched: set[str],
        conflicts: list[str],
        written: list[str],
    ) -> AddResult | None:
        """Write the blobs, then the rows; ``None`` when another writer won the race.

        The raw blob's key goes to ``written``: no stored document names it (the match
        found none with this raw hash, and writers of one id take turns), so if the add
        fails it is an orphan. ``touched``: the stored threads ``threading`` joins."""
        doc_id = threading.document_id
        blobs = self.blobs
        raw_path = raw_key(parsed.content_hash)
        written.append(raw_path)
        blobs.put(raw_path, parsed.raw)
        if sizes.consume:
            parsed.raw = b""  # handed over: not held beside the row SQLite builds
        assets = self._write_assets(parsed, doc_id, consume=sizes.consume)
        html_path = None
        if parsed.body_html is not None:
            # The parser linked assets as ../assets/<its id>/<name>; stored HTML names
            # them by asset id, so that any blob store can resolve them.
            html = link_assets(parsed.body_html, parsed.id, parsed.assets, assets)
            if sizes.consume:
                parsed.body_html = None
            html_path = f"html/{doc_id}.html"
            blobs.put(html_path, html.encode("utf-8", "replace"))
            del html

        added: dict[str, Any] = {"source": location.to_metadata()}
        if conflicts and parsed.message_id:
            added["message_id_conflict"] = conflict_metadata(parsed.message_id, conflicts)
        row = DocumentRow(
            id=doc_id,
            source_kind=location.kind,
            message_id=parsed.message_id,
            thread_id=self._thread_new(threading, touched),
            subject=parsed.subject or "",
            sender_name=parsed.sender_name,
            sender_email=parsed.sender_email,
            author=parsed.author,
            received_at=parsed.received_at,
            published_at=parsed.published_at,
            body_text=parsed.body_text or "",
            body_html_path=html_path,
            raw_path=raw_path,
            content_hash=parsed.content_hash,
            metadata_json=_metadata_text(parsed, added),
            created_at=utc_now_iso(),
            in_reply_to=parsed.in_reply_to,
            recipients=recipients_text(parsed.recipients),
            headers_hash=sizes.print_.headers,
            body_hash=sizes.print_.body,
            raw_size=sizes.raw_size,
            thread_chain=threading.chain,
        )
        if self.backend.insert_document(row, assets, location) is not None:
            return None
        ref = DocumentRef(
            id=doc_id,
            subject=row.subject,
            source_kind=row.source_kind,
            created_at=row.created_at,
            sender_email=row.sender_email,
            received_at=row.received_at,
        )
        return AddResult(document_id=doc_id, is_new=True, ref=ref)

    def _write_assets(
        self, parsed: ParsedDocument, doc_id: str, *, consume: bool = False
    ) -> list[AssetRow]:
        """Write each asset's blob; their rows. ``consume``: each asset's bytes are let go
        once written (``parsed.assets`` keeps them emptied), so a message of many parts
        does not hold all of them while the next are written and the rows inserted, and
        the heap they leave is handed back (:mod:`._heap`)."""
        if not parsed.assets:
            return []
        self.blobs.clear(f"assets/{doc_id}")  # leftovers of an add that was rolled back
        rows = []
        used: set[str] = set()
        freed = 0
        for ordinal, asset in enumerate(parsed.assets):
            name = asset.filename
            if name.casefold() in used:  # the parser makes names unique; belt and braces
                name = f"{ordinal}-{name}"
            used.add(name.casefold())
            key = f"assets/{doc_id}/{check_component(name)}"
            self.blobs.put(key, asset.data)
            rows.append(
                AssetRow(
                    id=f"{doc_id}-{ordinal:04d}",
                    document_id=doc_id,
                    ordinal=ordinal,
                    kind=asset.kind,
                    mime_type=asset.mime_type,
                    file_path=key,
                    cid=asset.cid,
                    sha256=asset.sha256,
                    filename=name,
                    size=asset.size,
                    text=asset.text,
                )
            )
            if consume:
                parsed.assets[ordinal] = dataclasses.replace(asset, data=b"")
                freed += len(asset.data)
        del asset
        release_after(freed)
        return rows

    # -- threads ---------------------------------------------------------------------------

    def _thread_new(self, message: ThreadMessage, touched: set[str]) -> str:
        """The thread id of a document about to be inserted; rewrites the thread ids of
        the stored documents its arrival merges or re-roots (a late parent, a message
        that links two threads). ``touched``: the stored threads naming the message or
        its chain (:meth:`Backend.thread_ids_naming`)."""
        if not touched:  # the common first message of a thread: nothing stored to load
            return lone_thread_id(message)
        messages, current = self.backend.thread_members(touched)
        messages.append(message)
        threads = build_threads(messages)
        self.backend.set_thread_ids(thread_changes(threads, current))
        for thread in threads:
            if any(m.document_id == message.document_id for m in thread.messages):
                return thread.thread_id
        raise AssertionError("a threaded document is in no thread")  # pragma: no cover

    def _rethread(self, thread_id: str) -> None:
        """Rebuild one stored thread (after a delete: what is left may fall apart)."""
        messages, current = self.backend.thread_members([thread_id])
        if messages:
            self.backend.set_thread_ids(thread_changes(build_threads(messages), current))

    def get_thread(self, thread_id: str) -> Thread:
        """The thread with this id (or the thread of the document with this id)."""
        messages, _current = self.backend.thread_members([thread_id])
        if not messages:
            of_document = self.backend.thread_of(thread_id)
            if of_document:
                messages, _current = self.backend.thread_members([of_document])
        if not messages:
            raise ThreadNotFoundError(
                f"no thread or document with id {thread_id!r}; run `mailatlas list` to see ids"
            )
        threads = build_threads(messages)
        # One thread, unless the stored ids were stale; the one the id names comes first.
        threads.sort(key=lambda t: t.thread_id != thread_id)
        return threads[0]

    def _link_conflict(self, new_id: str, message_id: str, others: Iterable[str]) -> None:
        """Add ``new_id`` to ``metadata.message_id_conflict`` of the earlier documents."""
        import logging  # not at import time: `list` and `show` never load it (start-up)

        others = list(others)
        logging.getLogger("mailatlas_core").warning(
            "two different messages share the Message-ID <%s>: stored %s beside %s",
            message_id,
            new_id,
            ", ".join(others),
        )
        for other in others:
            metadata = self.backend.get_metadata(other)
            if metadata is None:
                continue
            metadata["message_id_conflict"] = conflict_metadata(
                message_id, [*_linked(metadata), new_id]
            )
            self.backend.set_metadata(other, metadata)

    def _unlink_conflict(self, gone: str, metadata: DocumentMetadata | None) -> None:
        """Take a deleted document out of ``metadata.message_id_conflict`` of the
        documents it was linked with; a document left with no other holder of its
        Message-ID has no conflict any more, so its block goes."""
        block = metadata.get("message_id_conflict") if metadata is not None else None
        if block is None:
            return
        message_id = block["message_id"]
        holders = [r.id for r in self.backend.prints_by_message_id([message_id])]
        for other in dict.fromkeys([*block["documents"], *holders]):
            if other == gone:
                continue
            theirs = self.backend.get_metadata(other)
            if theirs is None or gone not in _linked(theirs):
                continue
            left = [d for d in _linked(theirs) if d != gone]
            if left:
                theirs["message_id_conflict"] = conflict_metadata(message_id, left)
            else:
                del theirs["message_id_conflict"]
            self.backend.set_metadata(other, theirs)

    def record_failure(
        self, location: SourceLocation, reason: str, raw: bytes | None, run_id: int | None = None
    ) -> str:
        """Keep a message that could not be processed, with its reason and raw bytes."""
        raw_hash = content_hash(raw) if raw is not None else None
        failure_id = content_hash(f"{location.key()}|{raw_hash}".encode())[:32]
        key = None
        with self.transaction():  # the raw bytes are stored (flushed) before the row
            if raw is not None:
                key = f"failures/{raw_hash}.eml"
                self.blobs.put(key, raw)
            self.backend.upsert_failure(
                FailureRow(
                    id=failure_id,
                    run_id=run_id,
                    kind=location.kind,
                    source=location.key(),
                    location=location.to_metadata(),
                    reason=reason,
                    raw_path=key,
                    content_hash=raw_hash,
                    created_at=utc_now_iso(),
                )
            )
        return failure_id

    # -- cursors and runs ------------------------------------------------------------------

    def get_cursor(self, host: str, port: int, username: str, folder: str) -> ImapCursor | None:
        """The stored cursor of one IMAP folder, if any."""
        return self.backend.get_cursor(host, port, username, folder)

    def save_cursor(self, cursor: ImapCursor) -> None:
        """Create or replace the cursor of one IMAP folder. Within one UIDVALIDITY its
        ``last_uid`` never goes back: a late commit of a worker whose lease expired
        cannot undo the progress of the worker that took the folder over."""
        self.backend.save_cursor(cursor, utc_now_iso())

    def start_run(self, kind: str, detail: dict[str, Any]) -> int:
        """Record the start of an ingest or sync run; returns its id.

        ``detail`` gains ``process`` (pid and host), so that a later writer can tell a
        run whose process died (:meth:`recover_interrupted`).
        """
        import socket  # here: reading the store (`list`, `show`) never needs it

        detail = {**detail, "process": {"pid": os.getpid(), "host": socket.gethostname()}}
        return self.backend.start_run(kind, detail, utc_now_iso())

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended."""
        self.backend.finish_run(run_id, status, summary, utc_now_iso())

    def recover_interrupted(self) -> list[int]:
        """Clean up after writers that died (SIGKILL, OOM killer, power cut).

        Removes their temp files (copies of private mail) and marks their runs, still
        ``running``, as ``interrupted``; returns the ids of those runs. Runs of live
        processes, and of other hosts, are left alone. Writers call this when they open
        a store.
        """
        import socket

        self.blobs.recover()
        host = socket.gethostname()
        dead = []
        for run in self.backend.running_runs():
            process = run.detail.get("process")
            if not isinstance(process, dict) or process.get("host") != host:
                continue
            pid = process.get("pid")
            if isinstance(pid, int) and not pid_alive(pid):
                dead.append(run.id)
        if dead:
            summary = {"reason": "the process ended before the run finished"}
            self.backend.interrupt_runs(dead, summary, utc_now_iso())
        return dead

    # -- failures --------------------------------------------------------------------------

    def iter_failures(self) -> Iterator[dict[str, Any]]:
        """Every recorded failure: source, reason, raw path, run, time."""
        for f in self.backend.iter_failures():
            yield {
                "id": f.id,
                "run_id": f.run_id,
                "kind": f.kind,
                "source": f.source,
                "location": f.location,
                "reason": f.reason,
                "raw_path": self._locate(f.raw_path),
                "content_hash": f.content_hash,
                "created_at": f.created_at,
            }

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        """Recorded failures, newest first, with the run each belongs to."""
        return [
            dataclasses.replace(f, raw_path=self._locate(f.raw_path))
            for f in self.backend.list_failures(run_id=run_id, limit=limit, offset=offset)
        ]

    def count_failures(self, *, run_id: int | None = None) -> int:
        """How many failures are recorded (in one run, if given)."""
        return self.backend.count_failures(run_id=run_id)

    def _locate(self, key: str | None) -> str | None:
        return None if key is None else self.blobs.locate(key)

    # -- reads -----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """One document with its assets and locations; paths located in the blob store."""
        doc = self.backend.get_document(document_id)
        locate = self.blobs.locate
        return dataclasses.replace(
            doc,
            raw_path=locate(doc.raw_path),
            body_html_path=self._locate(doc.body_html_path),
            raw_key=doc.raw_path,
            body_html_key=doc.body_html_path,
            assets=tuple(self._located(a) for a in doc.assets),
        )

    def get_asset(self, asset_id: str) -> Asset:
        """One asset with the text read from it (``asset.text``: status, error, and the
        text itself); ``asset.text`` is ``None`` for assets stored before text extraction.
        ``DocumentNotFoundError`` if there is no such asset."""
        return self._located(self.backend.get_asset(asset_id))

    def assets_without_text(self, limit: int = 100) -> list[Asset]:
        """Up to ``limit`` assets with no text reading (stored before MailAtlas read
        attachment text), in document order."""
        return [self._located(a) for a in self.backend.assets_without_text(limit)]

    def save_asset_text(self, asset_id: str, text: AssetText) -> None:
        """Record the text read from a stored asset that has none yet; an asset that has
        one keeps it."""
        self.backend.save_asset_text(asset_id, text)

    def _located(self, asset: Asset) -> Asset:
        """An asset of the backend (``file_path`` a blob key), located in the blob store."""
        return dataclasses.replace(
            asset, file_path=self.blobs.locate(asset.file_path), key=asset.file_path
        )

    def list_documents(self, flt: ListFilter | None = None) -> list[DocumentRef]:
        """Document refs, newest first (by received date), filtered and paged.

        A document seen on an IMAP server carries its live locations' flags per folder
        (``imap_flags``), read in one more query for the page.
        """
        refs = self.backend.list_documents(flt or ListFilter())
        flags = self.backend.live_imap_flags(ref.id for ref in refs) if refs else {}
        return [
            dataclasses.replace(ref, imap_flags=flags[ref.id]) if ref.id in flags else ref
            for ref in refs
        ]

    def count_documents(self, flt: ListFilter | None = None) -> int:
        """How many documents are stored (that match ``flt``, limit and offset aside)."""
        return self.backend.count_documents(flt or ListFilter())

    def stats(self) -> StoreStats:
        """Counts, sizes on disk, and documents per source kind and per folder."""
        counts = self.backend.counts()
        return StoreStats(
            database_bytes=self.backend.size_bytes(),
            workspace_bytes=self.blobs.total_bytes(),
            **counts,
        )

    # -- delete ----------------------------------------------------------------------------

    def delete_document(self, document_id: str) -> DeletedDocument:
        """Delete one document: its rows and search entry, then the blobs it referred to.

        Only blobs the store wrote for it are removed, and only when they are still
        what the store wrote (a regular file inside the workspace); anything else found
        there is left alone and reported. Exports are never touched.

        Raises:
            DocumentNotFoundError: there is no document with this id.
        """
        with self.transaction():
            thread_id = self.backend.thread_of(document_id)
            metadata = self.backend.get_metadata(document_id)
            keys = self.backend.delete_document(document_id)
            if thread_id:  # what is left of its thread may fall apart
                self._rethread(thread_id)
            self._unlink_conflict(document_id, metadata)
        # The rows are committed first: a crash now leaves unreferenced blobs (private
        # data a rerun cannot find), never a document whose blobs are gone.
        result = DeletedDocument(id=document_id)
        for key in keys:
            try:
                freed = self.blobs.delete(key)
            except StoreError as exc:  # UnsafePathError says why it was left
                result.files_left.append({"path": self.blobs.locate(key), "reason": str(exc)})
                continue
            if freed is not None:
                result.files_removed.append(self.blobs.locate(key))
                result.bytes_freed += freed
        prefix = f"assets/{document_id}"
        reason = self.blobs.release(prefix)
        if reason is not None:
            result.files_left.append({"path": self.blobs.locate(prefix), "reason": reason})
        return result

    # -- a living mailbox (persistence only: passed through) -------------------------------

    def imap_flags(
        self, cursor: ImapCursor, first_uid: int, last_uid: int
    ) -> dict[int, tuple[str, ...] | None]:
        """See :meth:`mailatlas_core._store.Store.imap_flags`."""
        return self.backend.imap_flags(cursor, first_uid, last_uid)

    def count_imap_locations(self, cursor: ImapCursor, last_uid: int) -> int:
        """See :meth:`mailatlas_core._store.Store.count_imap_locations`."""
        return self.backend.count_imap_locations(cursor, last_uid)

    def update_flags(self, cursor: ImapCursor, updates: Iterable[FlagUpdate]) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.update_flags`."""
        return self.backend.update_flags(cursor, updates)

    def mark_removed(self, cursor: ImapCursor, uids: Iterable[int]) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.mark_removed`."""
        return self.backend.mark_removed(cursor, uids)

    def retire_uidvalidity(self, cursor: ImapCursor) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.retire_uidvalidity`."""
        return self.backend.retire_uidvalidity(cursor)

    def deleted_on_server(self, host: str, port: int, username: str) -> list[str]:
        """See :meth:`mailatlas_core._store.Store.deleted_on_server`."""
        return self.backend.deleted_on_server(host, port, username)

    # -- the work queue (persistence only: passed through) ---------------------------------

    def enqueue_work(self, items: Iterable[tuple[str, str, int]]) -> int:
        """See :meth:`mailatlas_core._store.Store.enqueue_work`."""
        return self.backend.enqueue_work(items)

    def claim_work(
        self,
        owner: str,
        lease_seconds: float,
        *,
        accounts: Collection[str] | None = None,
        max_attempts: int | None = None,
    ) -> WorkItem | None:
        """See :meth:`mailatlas_core._store.Store.claim_work`."""
        return self.backend.claim_work(
            owner, lease_seconds, accounts=accounts, max_attempts=max_attempts
        )

    def renew_lease(self, account: str, folder: str, owner: str, lease_seconds: float) -> bool:
        """See :meth:`mailatlas_core._store.Store.renew_lease`."""
        return self.backend.renew_lease(account, folder, owner, lease_seconds)

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
        return self.backend.release_work(account, folder, owner, state, error=error, run_id=run_id)

    def list_work(self, *, accounts: Collection[str] | None = None) -> list[WorkItem]:
        """See :meth:`mailatlas_core._store.Store.list_work`."""
        return self.backend.list_work(accounts=accounts)

    def close(self) -> None:
        """Wait for the blobs still being stored, then release the connection.

        A blob put outside a transaction (``store.blobs.put``) may still be uploading: its
        error is raised here, once the connection is released. When an exception is
        already on its way (``close`` in a ``finally`` or ``with`` block that is unwinding)
        the upload's error is added to it as a note instead, never put in its place.
        """
        unwinding = sys.exc_info()[1]
        try:
            self.blobs.flush()
        except Exception as exc:
            if unwinding is None:
                raise
            unwinding.add_note(f"also, a blob upload failed while the store closed: {exc}")
        finally:
            self.backend.close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def conflict_metadata(message_id: str, documents: Iterable[str]) -> MessageIdConflict:
    """The ``metadata.message_id_conflict`` block: the other documents with this Message-ID."""
    return {"message_id": message_id, "documents": list(dict.fromkeys(documents))}


def _linked(metadata: DocumentMetadata) -> list[str]:
    block = metadata.get("message_id_conflict")
    return list(block["documents"]) if block is not None else []


def _metadata_text(parsed: ParsedDocument, added: dict[str, Any]) -> str:
    """The stored metadata's text: the parser's metadata with the members the store
    ``added`` (:data:`STORE_KEYS`), as ``_json.dumps`` writes that dict.

    ``dumps`` writes a dict's keys in order and the added keys come after the parser's,
    so it is the parser's own serialisation (``parsed.metadata_json``) with the added
    members appended, when there is one and its dict had none of them (a deferred
    metadata never has: :meth:`ParsedDocument.defer_metadata`); else the dict is
    serialised here."""
    pre = parsed.metadata_json or ""
    if (len(pre) > 2 and pre[-1] == "}") and (
        parsed.metadata_deferred
        or (parsed.metadata and not any(key in parsed.metadata for key in STORE_KEYS))
    ):
        members = "".join(f",{dumps(k)}:{dumps(v)}" for k, v in added.items())
        return f"{pre[:-1]}{members}}}"
    metadata: dict[str, Any] = dict(parsed.metadata)
    metadata.update(added)
    return dumps(metadata)
