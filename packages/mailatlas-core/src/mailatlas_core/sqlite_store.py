"""The SQLite + files backend of :class:`mailatlas_core.store.Store`."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._query import (
    COMMON_QUERY_THRESHOLD,
    count_query,
    fts_query,
    is_search_error,
    list_query,
    search_error,
)
from ._rows import (
    asset_from_row,
    document_from_row,
    location_from_row,
    recipients_text,
    ref_from_row,
)
from ._sqlite_admin import AdminMixin
from ._sqlite_conn import check_db_path, connect, db_error, dumps, scrub
from ._sqlite_identity import IdentityMixin, conflict_metadata
from ._sqlite_state import StateMixin
from ._sqlite_texts import TextsMixin
from ._sqlite_threads import ThreadsMixin
from ._sqlite_work import WorkMixin
from .blobs import LocalBlobStore
from .dates import utc_now_iso
from .errors import DocumentNotFoundError, InvalidFilterError, StoreError
from .gmail import GmailMessage, merge_gmail
from .ids import Fingerprint, conflict_document_id, fingerprint
from .model import (
    AddResult,
    Document,
    DocumentRef,
    ParsedDocument,
    SourceLocation,
)
from .store import ListFilter
from .threads import ThreadMessage, parent_chain
from .workspace import check_component

__all__ = ["SQLiteStore"]


class SQLiteStore(StateMixin, AdminMixin, IdentityMixin, ThreadsMixin, WorkMixin, TextsMixin):
    """One SQLite database (WAL, foreign keys on) plus one workspace directory.

    One connection per store object; use one store object per process. Writers take
    SQLite's write lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue
    instead of failing, and UNIQUE constraints make every add insert-or-ignore.
    """

    def __init__(self, db_path: Path, workspace_path: Path, *, create: bool = True) -> None:
        self.db_path = db_path.absolute()
        self.blobs = LocalBlobStore(workspace_path)
        self.workspace = self.blobs.workspace
        self._depth = 0
        # Documents with a larger seq were added in the open transaction and are not yet
        # in the full-text index (see _index_new); None when there are none.
        self._unindexed_after: int | None = None
        self._texts_unindexed_after = None
        check_db_path(self.db_path, create=create)
        if create:
            # Only missing directories are made; an existing parent (a shared dir, /tmp)
            # keeps its mode. The workspace waits until the database is known to be ours.
            self.workspace.make_dir(self.db_path.parent)
        self._conn = connect(self.db_path, create=create)
        if create:
            try:
                self.blobs.prepare()
                self.recover_interrupted()
            except BaseException:
                self._conn.close()
                raise

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the calls inside into one commit. Re-entrant; rolls back on error.

        A nested block is a savepoint: if it fails, only its own changes are undone and
        the enclosing batch goes on (one rejected message never costs its batch).
        """
        if self._depth:
            savepoint = f"sp{self._depth}"
            self._conn.execute(f"SAVEPOINT {savepoint}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._conn.execute(f"ROLLBACK TO {savepoint}")
                self._conn.execute(f"RELEASE {savepoint}")
                raise
            else:
                self._conn.execute(f"RELEASE {savepoint}")
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot start a write transaction") from exc
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            self._index_new()
            self._index_new_texts()
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise db_error(exc, "cannot commit") from exc

    def _index_new(self) -> None:
        """Add this transaction's new documents to the full-text index, in one statement.

        Run just before COMMIT, so the index and the rows commit together. Indexing row
        by row (a trigger) inside each add's savepoint made FTS5 write and then merge a
        one-document segment per message: about half the cost of an add.
        """
        after, self._unindexed_after = self._unindexed_after, None
        if after is not None:
            self._conn.execute(
                "INSERT INTO documents_fts (rowid, subject, sender_name, sender_email,"
                " recipients, body_text) SELECT seq, subject, sender_name, sender_email,"
                " recipients, body_text FROM documents WHERE seq > ?",
                (after,),
            )

    def _rollback(self) -> None:
        self._unindexed_after = None
        self._texts_unindexed_after = None
        # After some failures (an I/O error during COMMIT) SQLite has already rolled
        # back; a second ROLLBACK would raise and hide the real error.
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    # -- lookups ---------------------------------------------------------------------------

    def known_message_ids(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Map each already-stored normalised Message-ID to its document id."""
        ids = list(dict.fromkeys(m for m in message_ids if m))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT message_id, id FROM documents WHERE message_id IN ({marks})", chunk
            ):
                found[row[0]] = row[1]
        return found

    # -- writes ----------------------------------------------------------------------------

    def add(self, parsed: ParsedDocument, location: SourceLocation) -> AddResult:
        """Store a parsed message, or record the location of the stored copy it is.

        A message with the Message-ID of a stored, different message (see
        :mod:`._sqlite_identity`) is stored too, under :func:`conflict_document_id`, and
        both are linked through ``metadata.message_id_conflict``.
        """
        print_ = fingerprint(parsed.raw)
        try:
            with self.transaction():
                existing, others = self._match(
                    parsed.message_id, parsed.content_hash, lambda: print_
                )
                if existing is not None:
                    return self._add_location(existing, location)
                if parsed.message_id and others:
                    doc_id = conflict_document_id(parsed.message_id, print_)
                    added = self._insert(parsed, location, print_, doc_id, others)
                    self._link_conflict(doc_id, parsed.message_id, others)
                    return added
                return self._insert(parsed, location, print_)
        except sqlite3.Error as exc:
            raise db_error(exc, f"cannot store message from {location.key()}") from exc

    def set_gmail(self, document_id: str, message: GmailMessage) -> None:
        """Keep Gmail's ids and labels of a document in ``metadata.gmail``."""
        try:
            with self.transaction():
                row = self._conn.execute(
                    "SELECT metadata FROM documents WHERE id = ?", (document_id,)
                ).fetchone()
                if row is None:
                    return
                metadata = merge_gmail(json.loads(row[0] or "{}"), message)
                self._conn.execute(
                    "UPDATE documents SET metadata = ? WHERE id = ?", (dumps(metadata), document_id)
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record Gmail labels") from exc

    def add_location(self, document_id: str, location: SourceLocation) -> AddResult:
        """Record that a stored document was also seen at ``location``."""
        try:
            with self.transaction():
                return self._add_location(document_id, location)
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record a location") from exc

    def _add_location(self, document_id: str, location: SourceLocation) -> AddResult:
        self._insert_location(document_id, location)
        ref = self._ref(document_id)
        return AddResult(document_id=document_id, is_new=False, ref=ref)

    def _insert(
        self,
        parsed: ParsedDocument,
        location: SourceLocation,
        print_: Fingerprint,
        doc_id: str | None = None,
        conflicts: list[str] | None = None,
    ) -> AddResult:
        doc_id = doc_id or parsed.id
        raw_key = f"raw/{doc_id}.eml"
        self.blobs.put(raw_key, parsed.raw)
        html_rel = None
        if parsed.body_html is not None:
            html = parsed.body_html
            if doc_id != parsed.id:  # the parser linked the assets under its own id
                html = html.replace(f"../assets/{parsed.id}/", f"../assets/{doc_id}/")
            html_rel = f"html/{doc_id}.html"
            self.blobs.put(html_rel, html.encode("utf-8", "replace"))
        asset_rows = self._write_assets(parsed, doc_id)

        threading = ThreadMessage(
            document_id=doc_id,
            message_id=parsed.message_id,
            chain=parent_chain(parsed.message_id, parsed.references, parsed.in_reply_to),
            fallback=parsed.content_hash,
            date=parsed.published_at or parsed.received_at or "",
            subject=parsed.subject or "",
            sender=parsed.sender_email,
        )
        thread_id = self._thread_new(threading)
        metadata = dict(parsed.metadata)
        metadata["source"] = location.to_metadata()
        if conflicts and parsed.message_id:
            metadata["message_id_conflict"] = conflict_metadata(parsed.message_id, conflicts)
        now = utc_now_iso()
        values = (
            doc_id,
            location.kind,
            parsed.message_id,
            thread_id,
            parsed.subject or "",
            parsed.sender_name,
            parsed.sender_email,
            parsed.author,
            parsed.received_at,
            parsed.published_at,
            parsed.body_text or "",
            html_rel,
            raw_key,
            parsed.content_hash,
            dumps(metadata),
            now,
            parsed.in_reply_to,
            recipients_text(metadata.get("recipients")),
            print_.headers,
            print_.body,
            len(parsed.raw),
        )
        try:
            seq = self._insert_document_row(values)
        except UnicodeEncodeError:
            # Lone surrogates from undecodable headers: keep the text, drop the bad code points.
            seq = self._insert_document_row(tuple(scrub(v) for v in values))
        if self._unindexed_after is None:
            self._unindexed_after = seq - 1
        self._link_new(threading)
        if asset_rows:
            self._conn.executemany(
                "INSERT INTO assets (id, document_id, ordinal, kind, mime_type, file_path, cid,"
                " sha256, filename, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                asset_rows,
            )
            self._insert_texts(doc_id, parsed.assets, [r[0] for r in asset_rows])
        self._insert_location(doc_id, location, now)
        ref = DocumentRef(
            id=doc_id,
            subject=parsed.subject or "",
            source_kind=location.kind,
            created_at=now,
            sender_email=parsed.sender_email,
            received_at=parsed.received_at,
        )
        return AddResult(document_id=doc_id, is_new=True, ref=ref)

    def _insert_document_row(self, values: tuple[Any, ...]) -> int:
        """Insert one documents row; return its ``seq``."""
        cursor = self._conn.execute(
            "INSERT INTO documents (id, source_kind, message_id, thread_id, subject,"
            " sender_name, sender_email, author, received_at, published_at, body_text,"
            " body_html_path, raw_path, content_hash, metadata, created_at, in_reply_to,"
            " recipients, headers_hash, body_hash, raw_size)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _write_assets(self, parsed: ParsedDocument, doc_id: str) -> list[tuple[Any, ...]]:
        if not parsed.assets:
            return []
        self.blobs.clear(f"assets/{doc_id}")  # leftovers of an add that was rolled back
        rows = []
        used: set[str] = set()
        for ordinal, asset in enumerate(parsed.assets):
            name = asset.filename
            if name.casefold() in used:  # the parser makes names unique; belt and braces
                name = f"{ordinal}-{name}"
            used.add(name.casefold())
            key = f"assets/{doc_id}/{check_component(name)}"
            self.blobs.put(key, asset.data)
            rows.append(
                (
                    f"{doc_id}-{ordinal:04d}",
                    doc_id,
                    ordinal,
                    asset.kind,
                    asset.mime_type,
                    key,
                    asset.cid,
                    asset.sha256,
                    name,
                    asset.size,
                )
            )
        return rows

    def _insert_location(
        self, document_id: str, location: SourceLocation, now: str | None = None
    ) -> None:
        self._conn.execute(
            'INSERT OR IGNORE INTO locations (document_id, kind, key, path, "offset", host, port,'
            " username, folder, uid, uidvalidity, first_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document_id,
                location.kind,
                location.key(),
                location.path,
                location.offset,
                location.host,
                location.port,
                location.username,
                location.folder,
                location.uid,
                location.uidvalidity,
                now or utc_now_iso(),
            ),
        )

    # -- reads -----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """One document with its assets and locations."""
        try:
            row = self._conn.execute(
                "SELECT * FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
            if row is None:
                raise DocumentNotFoundError(
                    f"no document with id {document_id!r}; run `mailatlas list` to see ids"
                )
            assets = [
                asset_from_row(r, self.blobs.locate)
                for r in self._conn.execute(
                    "SELECT * FROM assets WHERE document_id = ? ORDER BY ordinal", (document_id,)
                )
            ]
            locations = [
                location_from_row(r)
                for r in self._conn.execute(
                    "SELECT * FROM locations WHERE document_id = ? ORDER BY id", (document_id,)
                )
            ]
            assets = self._with_texts(document_id, assets)
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return document_from_row(row, self.blobs.locate, assets, locations)

    def list_documents(self, flt: ListFilter | None = None) -> list[DocumentRef]:
        """Document refs, newest first, filtered and paged."""
        flt = flt or ListFilter()
        try:
            common = False
            match = fts_query(flt.query) if flt.query else ""
            if match:
                common = (
                    self._conn.execute(
                        "SELECT count(*) FROM (SELECT rowid FROM documents_fts"
                        " WHERE documents_fts MATCH ? LIMIT ?)",
                        (match, COMMON_QUERY_THRESHOLD),
                    ).fetchone()[0]
                    >= COMMON_QUERY_THRESHOLD
                )
            sql, params = list_query(flt, common_query=common)
            rows = self._conn.execute(sql, params).fetchall()
            refs = [ref_from_row(r) for r in rows]
            return self._annotate(refs, match) if match else refs
        except sqlite3.OperationalError as exc:
            raise self._list_error(flt, exc) from exc

    def count_documents(self, flt: ListFilter | None = None) -> int:
        """How many documents are stored (that match ``flt``, limit and offset aside)."""
        sql, params = count_query(flt or ListFilter())
        try:
            return int(self._conn.execute(sql, params).fetchone()[0])
        except sqlite3.OperationalError as exc:
            raise self._list_error(flt or ListFilter(), exc) from exc
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc

    @staticmethod
    def _list_error(flt: ListFilter, exc: sqlite3.Error) -> StoreError | InvalidFilterError:
        if flt.query and is_search_error(exc):
            return search_error(flt.query, exc)
        return StoreError(f"cannot search: {exc}")

    def _ref(self, document_id: str) -> DocumentRef:
        r = self._conn.execute(
            "SELECT id, subject, source_kind, created_at, sender_email, received_at"
            " FROM documents WHERE id = ?",
            (document_id,),
        ).fetchone()
        if r is None:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return ref_from_row(r)

    def close(self) -> None:
        """Release the connection."""
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
