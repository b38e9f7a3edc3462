"""The SQLite :class:`~mailatlas_core._backend.Backend`: rows only, no policy.

Ids, dedupe, threads and blobs are decided by
:class:`~mailatlas_core._docstore.DocumentStore`; this class stores what it is given.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._backend import AssetRow, Candidates, DocumentRow, StoredPrint
from ._errors import DocumentNotFoundError, InvalidFilterError, StoreError
from ._files import make_dirs
from ._live import LiveMixin
from ._metadata import DocumentMetadata
from ._model import Document, DocumentRef, SourceLocation
from ._query import (
    COMMON_QUERY_THRESHOLD,
    SEEK_WALK_MAX,
    Plan,
    count_query,
    fts_query,
    is_search_error,
    list_query,
    search_error,
)
from ._rows import (
    asset_from_row,
    asset_values,
    document_from_row,
    document_values,
    location_from_row,
    location_values,
    ref_from_row,
)
from ._sqlite_admin import AdminMixin
from ._sqlite_conn import check_db_path, connect, db_error, dumps, scrub
from ._sqlite_state import StateMixin
from ._sqlite_texts import TextsMixin
from ._sqlite_threads import ThreadsMixin
from ._sqlite_work import WorkMixin
from ._store import ListFilter
from ._workspace import os_error

__all__ = ["SQLiteBackend"]

_DOCUMENT_INSERT = (
    "INSERT INTO documents (id, source_kind, message_id, thread_id, subject,"
    " sender_name, sender_email, author, received_at, published_at, body_text,"
    " body_html_path, raw_path, content_hash, metadata, created_at, in_reply_to,"
    " recipients, headers_hash, body_hash, raw_size)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A body of at least this many characters is inserted as a placeholder of its UTF-8
# length and then written through an incremental blob handle, a piece at a time: bound
# as a str, SQLite would hold the whole text twice (its bound copy, which stays in the
# cached statement, and the record) next to Python's cached UTF-8 copy of the str, about
# three times the body beside the body itself. The column stays TEXT (the placeholder is
# TEXT; a blob write keeps a value's type), so the full-text index built at commit and
# every read see the same text as before.
_STREAMED_BODY = 1 << 20
_BODY_PIECE = 1 << 20  # characters encoded and written at a time
_BODY = 10  # body_text's position in _DOCUMENT_INSERT
_DOCUMENT_INSERT_PLACEHOLDER = _DOCUMENT_INSERT.replace(
    "VALUES (" + "?, " * _BODY + "?", "VALUES (" + "?, " * _BODY + "CAST(zeroblob(?) AS TEXT)", 1
)
_ASSET_INSERT = (
    "INSERT INTO assets (id, document_id, ordinal, kind, mime_type, file_path, cid,"
    " sha256, filename, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _utf8_pieces(text: str) -> Iterator[bytes]:
    """``text`` encoded as UTF-8, ``_BODY_PIECE`` characters at a time."""
    for start in range(0, len(text), _BODY_PIECE):
        yield text[start : start + _BODY_PIECE].encode()


def _keep(key: str) -> str:
    return key


class SQLiteBackend(StateMixin, AdminMixin, ThreadsMixin, WorkMixin, TextsMixin, LiveMixin):
    """One SQLite database (WAL, foreign keys on).

    One connection per object; use one per process. Writers take SQLite's write lock up
    front (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing.
    """

    def __init__(self, db_path: Path, *, create: bool = True) -> None:
        self.db_path = db_path.absolute()
        self._depth = 0
        # Identifies the open outermost transaction; a nested block compares it to know
        # whether its savepoint still exists.
        self._outer: object | None = None
        # Documents with a larger seq were added in the open transaction and are not yet
        # in the full-text index (see _index_new); None when there are none.
        self._unindexed_after: int | None = None
        self._texts_unindexed_after = None
        check_db_path(self.db_path, create=create)
        if create:
            # Only missing directories are made; an existing parent (a shared dir, /tmp)
            # keeps its mode.
            try:
                make_dirs(self.db_path.parent)
            except OSError as exc:
                raise os_error(exc, f"cannot create directory {self.db_path.parent}") from exc
        self._conn = connect(self.db_path, create=create)

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the calls inside into one commit. Re-entrant; rolls back on error.

        A nested block is a savepoint: if it fails, only its own changes are undone and
        the enclosing batch goes on (one rejected message never costs its batch).
        """
        if self._depth:
            level, outer = self._depth, self._outer
            savepoint = f"sp{level}"
            self._conn.execute(f"SAVEPOINT {savepoint}")
            self._depth = level + 1
            try:
                yield
            except BaseException as exc:
                # A signal can land between a nested block's enter and its body, so the
                # outer block ends (and rolls back) first and this generator is closed
                # later by the garbage collector: its savepoint is gone with the outer
                # transaction, and there is nothing left to undo.
                if self._outer is outer:
                    self._conn.execute(f"ROLLBACK TO {savepoint}")
                    self._conn.execute(f"RELEASE {savepoint}")
                if isinstance(exc, sqlite3.Error):
                    raise db_error(exc, "cannot write to the store") from exc
                raise
            else:
                self._conn.execute(f"RELEASE {savepoint}")
            finally:
                if self._outer is outer:
                    self._depth = level
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot start a write transaction") from exc
        self._depth = 1
        self._outer = outer = object()
        try:
            yield
        except BaseException as exc:
            if self._outer is outer:  # else a later transaction is open: leave it be
                self._depth = 0
                self._outer = None
                self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise db_error(exc, "cannot write to the store") from exc
            raise
        self._depth = 0
        self._outer = None
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

    def close(self) -> None:
        """Release the connection."""
        self._conn.close()

    # -- dedupe lookups --------------------------------------------------------------------

    def id_by_content_hash(self, raw_hash: str) -> str | None:
        try:
            row = self._conn.execute(
                "SELECT id FROM documents WHERE content_hash = ?", (raw_hash,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return None if row is None else str(row[0])

    def ids_by_content_hash(self, raw_hashes: Iterable[str]) -> dict[str, str]:
        hashes = list(dict.fromkeys(raw_hashes))
        found: dict[str, str] = {}
        try:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._conn.execute(
                        f"SELECT content_hash, id FROM documents WHERE content_hash IN ({marks})",
                        chunk,
                    ).fetchall()
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return found

    def prints_by_message_id(self, message_ids: Iterable[str]) -> list[StoredPrint]:
        ids = list(dict.fromkeys(m for m in message_ids if m))
        found: list[StoredPrint] = []
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.extend(
                    StoredPrint(
                        id=r[0],
                        message_id=r[1],
                        headers_hash=r[2],
                        body_hash=r[3],
                        raw_size=r[4],
                        raw_path=r[5],
                    )
                    for r in self._conn.execute(
                        "SELECT id, message_id, headers_hash, body_hash, raw_size, raw_path"
                        f" FROM documents WHERE message_id IN ({marks}) ORDER BY seq",
                        chunk,
                    )
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return found

    def candidates(
        self, raw_hash: str, message_id: str | None, thread_names: Sequence[str] = ()
    ) -> Candidates:
        """The lookups one after the other: in-process, nothing to save by joining them."""
        same = self.id_by_content_hash(raw_hash)
        if same is not None:
            return Candidates(same, [], set())
        prints = self.prints_by_message_id((message_id,)) if message_id else []
        return Candidates(None, prints, self.thread_ids_naming(thread_names))

    def ids_by_message_id(self, message_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(m for m in message_ids if m))
        found: dict[str, str] = {}
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT message_id, id FROM documents WHERE message_id IN ({marks})", chunk
                ):
                    found[row[0]] = row[1]
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return found

    def thread_of(self, document_id: str) -> str | None:
        try:
            row = self._conn.execute(
                "SELECT thread_id FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return None if row is None or row[0] is None else str(row[0])

    # -- document writes -------------------------------------------------------------------

    def claim(self, document_id: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already serialises SQLite's writers."""

    def insert_document(
        self, row: DocumentRow, assets: Sequence[AssetRow], location: SourceLocation
    ) -> str | None:
        values = document_values(row)
        try:
            seq = self._insert_document_row(values)
        except UnicodeEncodeError:
            # Lone surrogates from undecodable headers: keep the text, drop the bad code points.
            seq = self._insert_document_row(tuple(scrub(v) for v in values))
        except sqlite3.IntegrityError:
            existing = self._existing(row)
            if existing is None:
                raise
            return existing
        if self._unindexed_after is None:
            self._unindexed_after = seq - 1
        if assets:
            self._conn.executemany(
                _ASSET_INSERT,
                [asset_values(a) for a in assets],
            )
            texts = [(a.text, a.id) for a in assets if a.text is not None]
            if texts:
                self._insert_texts(row.id, [t for t, _ in texts], [i for _, i in texts])
        if row.thread_chain:
            self._insert_links(row.id, row.thread_chain)
        self.insert_location(row.id, location, row.created_at)
        return None

    def _insert_document_row(self, values: tuple[Any, ...]) -> int:
        """Insert one documents row; return its ``seq``."""
        body = values[_BODY]
        if len(body) < _STREAMED_BODY:
            cursor = self._conn.execute(_DOCUMENT_INSERT, values)
            assert cursor.lastrowid is not None
            return cursor.lastrowid
        # Raises UnicodeEncodeError (lone surrogates) before anything is inserted.
        size = len(body) if body.isascii() else sum(len(p) for p in _utf8_pieces(body))
        placeholder = (*values[:_BODY], size, *values[_BODY + 1 :])
        cursor = self._conn.execute(_DOCUMENT_INSERT_PLACEHOLDER, placeholder)
        seq = cursor.lastrowid
        assert seq is not None
        with self._conn.blobopen("documents", "body_text", seq) as blob:
            for piece in _utf8_pieces(body):
                blob.write(piece)
        return seq

    def _existing(self, row: DocumentRow) -> str | None:
        found = self._conn.execute(
            "SELECT id FROM documents WHERE id = ? OR content_hash = ?",
            (row.id, row.content_hash),
        ).fetchone()
        return None if found is None else str(found[0])

    def insert_location(self, document_id: str, location: SourceLocation, seen_at: str) -> None:
        # Seen again where it was seen before (a folder compared after a reset, or a
        # rerun after a crash): the location is live again, with what the server says now.
        self._conn.execute(
            'INSERT INTO locations (document_id, kind, key, path, "offset", host, port,'
            " username, folder, uid, uidvalidity, first_seen_at, flags, keywords, modseq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (document_id, key) DO UPDATE SET removed_at = NULL,"
            " flags = coalesce(excluded.flags, flags),"
            " keywords = coalesce(excluded.keywords, keywords),"
            " modseq = coalesce(excluded.modseq, modseq)",
            location_values(document_id, location, seen_at),
        )

    def _live(self, sql: str, params: list[Any], what: str) -> list[tuple[Any, ...]]:
        """Run one statement of :class:`LiveMixin`."""
        try:
            return [tuple(r) for r in self._conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            raise db_error(exc, what) from exc

    def _live_many(self, sql: str, rows: list[list[Any]], what: str) -> None:
        """Run one statement of :class:`LiveMixin` per row."""
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise db_error(exc, what) from exc

    def get_metadata(self, document_id: str) -> DocumentMetadata | None:
        import json

        try:
            row = self._conn.execute(
                "SELECT metadata FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        if row is None:
            return None
        value: DocumentMetadata = json.loads(row[0])  # written by the store: trusted
        return value

    def set_metadata(self, document_id: str, metadata: DocumentMetadata) -> None:
        try:
            self._conn.execute(
                "UPDATE documents SET metadata = ? WHERE id = ?", (dumps(metadata), document_id)
            )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot store the document's metadata") from exc

    # -- reads -----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """One document with its assets and locations (paths are blob keys)."""
        try:
            row = self._conn.execute(
                "SELECT * FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
            if row is None:
                raise DocumentNotFoundError(
                    f"no document with id {document_id!r}; run `mailatlas list` to see ids"
                )
            assets = [
                asset_from_row(r, _keep)
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
        return document_from_row(row, _keep, assets, locations)

    def get_ref(self, document_id: str) -> DocumentRef:
        try:
            r = self._conn.execute(
                "SELECT id, subject, source_kind, created_at, sender_email, received_at"
                " FROM documents WHERE id = ?",
                (document_id,),
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        if r is None:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return ref_from_row(r)

    def list_documents(self, flt: ListFilter) -> list[DocumentRef]:
        try:
            match = fts_query(flt.query) if flt.query else ""
            sql, params = list_query(flt, plan=self._plan(match, flt) if match else "sort")
            rows = self._conn.execute(sql, params).fetchall()
            refs = [ref_from_row(r) for r in rows]
            return self._annotate(refs, match) if match else refs
        except sqlite3.OperationalError as exc:
            raise self._list_error(flt, exc) from exc
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc

    def _plan(self, match: str, flt: ListFilter) -> Plan:
        """How to find this search's page (see :func:`list_query`), from the first
        ``COMMON_QUERY_THRESHOLD`` matches: too few, sort them all; else walk the date
        index, seeking each row in the full-text index if the matches are dense enough
        that the page is at most ``SEEK_WALK_MAX`` rows away (estimated from how far
        into the store, by rowid, those first matches reach)."""
        found, last = self._conn.execute(
            "SELECT count(*), max(rowid) FROM (SELECT rowid FROM documents_fts"
            " WHERE documents_fts MATCH ? LIMIT ?)",
            (match, COMMON_QUERY_THRESHOLD),
        ).fetchone()
        if found < COMMON_QUERY_THRESHOLD:
            return "sort"
        near = (flt.offset + flt.limit) * last <= SEEK_WALK_MAX * found
        return "walk_seek" if near else "walk"

    def count_documents(self, flt: ListFilter) -> int:
        sql, params = count_query(flt)
        try:
            return int(self._conn.execute(sql, params).fetchone()[0])
        except sqlite3.OperationalError as exc:
            raise self._list_error(flt, exc) from exc
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc

    @staticmethod
    def _list_error(flt: ListFilter, exc: sqlite3.Error) -> StoreError | InvalidFilterError:
        if flt.query and is_search_error(exc):
            return search_error(flt.query, exc)
        return StoreError(f"cannot search: {exc}")
