"""The PostgreSQL backend of the store (:class:`~mailatlas_core._backend.Backend`): rows only.

One connection per backend object (psycopg 3, autocommit; transactions are explicit and
nest as savepoints). Many processes on many hosts may write one database at once: every
insert is ``INSERT ... ON CONFLICT DO NOTHING`` on the table's UNIQUE constraints, so two
writers storing the same message leave exactly one document, and the loser learns the
winner's id. Isolation is PostgreSQL's default, READ COMMITTED: a conflicting insert
waits for the other writer's transaction and then sees its committed row.

Needs the ``postgres`` extra (``pip install 'mailatlas-core[postgres]'``); psycopg is
imported when a backend is opened, never when ``mailatlas_core`` is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from ._backend import AssetRow, Candidates, DocumentRow, FailureRow, RunRow, StoredPrint
from ._errors import DocumentNotFoundError, InvalidFilterError, StoreError
from ._live import LiveMixin
from ._metadata import DocumentMetadata
from ._model import (
    Asset,
    AssetText,
    Document,
    DocumentRef,
    ImapCursor,
    SourceLocation,
    StoredFailure,
)
from ._pg_conn import connect, pg_error, redact_url
from ._pg_query import pg_count_query, pg_list_query
from ._pg_search import search_query, search_vector
from ._pg_session import PgSession
from ._pg_work import PgWorkMixin
from ._query import COMMON_QUERY_THRESHOLD
from ._rows import (
    asset_from_row,
    asset_values,
    cursor_from_row,
    document_from_row,
    document_values,
    failure_from_row,
    failure_row,
    location_from_row,
    location_values,
    ref_from_row,
    with_matches,
)
from ._sqlite_conn import dumps
from ._sqlite_threads import _MEMBER_COLUMNS
from ._sqlite_threads import _messages as thread_messages
from ._store import ListFilter
from ._threads import ThreadMessage

if TYPE_CHECKING:
    import sqlite3

__all__ = ["PostgresBackend"]

_DOCUMENT_COLUMNS = (
    "id, source_kind, message_id, thread_id, subject, sender_name, sender_email, author,"
    " received_at, published_at, body_text, body_html_path, raw_path, content_hash,"
    " metadata, created_at, in_reply_to, recipients, headers_hash, body_hash, raw_size,"
    " search"
)
_LOCATION_COLUMNS = (
    'document_id, kind, key, path, "offset", host, port, username, folder, uid, uidvalidity,'
    " first_seen_at, flags, keywords, modseq"
)
# One statement, one round trip: the document, then (only if it was inserted) its first
# location and its thread chain. A UNIQUE conflict inserts nothing and returns no row.
_INSERT_DOCUMENT = (
    "WITH d AS ("
    f"INSERT INTO documents ({_DOCUMENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
    " %s, %s, %s, %s, %s, %s, %s::json, %s, %s, %s, %s, %s, %s, %s::tsvector)"
    " ON CONFLICT DO NOTHING RETURNING id),"
    f" l AS (INSERT INTO locations ({_LOCATION_COLUMNS}) SELECT d.id, %s, %s, %s, %s::bigint,"
    " %s, %s::integer, %s, %s, %s::bigint, %s::bigint, %s, %s, %s, %s::bigint FROM d),"
    " t AS (INSERT INTO thread_links (document_id, position, message_id)"
    " SELECT d.id, c.n - 1, c.message_id FROM d,"
    " unnest(%s::text[]) WITH ORDINALITY AS c(message_id, n))"
    " SELECT id FROM d"
)
_THREADS_NAMING = (
    "SELECT thread_id FROM documents WHERE message_id = ANY(%s)"
    " AND thread_id IS NOT NULL UNION SELECT d.thread_id FROM thread_links l"
    " JOIN documents d ON d.id = l.document_id"
    " WHERE l.message_id = ANY(%s) AND d.thread_id IS NOT NULL"
)
_INSERT_TEXT = (
    "INSERT INTO asset_texts (asset_id, document_id, status, chars, truncated, error,"
    " extractor, text, search) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector)"
)
_TEXT_SUMMARY = "asset_id, status, chars, truncated, error, extractor"
_INSERT_ASSET = (
    "INSERT INTO assets (id, document_id, ordinal, kind, mime_type, file_path, cid, sha256,"
    " filename, size) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_LOCATION = (
    f"INSERT INTO locations ({_LOCATION_COLUMNS})"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    # Seen again where it was seen before: live again, with what the server says now.
    " ON CONFLICT (document_id, key) DO UPDATE SET removed_at = NULL,"
    " flags = coalesce(excluded.flags, locations.flags),"
    " keywords = coalesce(excluded.keywords, locations.keywords),"
    " modseq = coalesce(excluded.modseq, locations.modseq)"
)


def _clean(value: Any) -> Any:
    """Text PostgreSQL can hold: no NUL, no lone surrogate (each becomes U+FFFD)."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _text_values(text: AssetText) -> tuple[Any, ...]:
    """An ``asset_texts`` row's values from ``status`` to ``search``, the text read once
    (one held as its file's bytes is decoded at each read)."""
    body = text.text
    return (
        text.status,
        text.chars,
        text.truncated,
        _clean(text.error),
        text.extractor,
        _clean(body or ""),
        search_vector(body),
    )


_TEXT_BATCH_CHARS = 1 << 20


def _text_batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    """``asset_texts`` rows in lists of about ``_TEXT_BATCH_CHARS`` of text and vector."""
    batch: list[tuple[Any, ...]] = []
    size = 0
    for row in rows:
        batch.append(row)
        size += len(row[-2]) + len(row[-1])  # its text and vector (see _text_values)
        if size >= _TEXT_BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _row(row: dict[str, Any]) -> sqlite3.Row:
    """A psycopg dict row where the shared row converters (``_rows``) expect one."""
    return cast("sqlite3.Row", row)


def _key(value: str) -> str:
    return value


class PostgresBackend(PgWorkMixin, LiveMixin):
    """Rows in one PostgreSQL database (``postgresql://USER@HOST:PORT/DB``)."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = redact_url(url)
        # Savepoints, their releases and the per-id lock ride with the next statement.
        self._conn = PgSession(connect(url, create=create), lambda: connect(url, create=False))
        from psycopg.rows import dict_row

        self._dict_row = dict_row

    # -- life cycle ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic commit; a nested block is a savepoint (sent with its first
        statement, released with the next one: see :class:`PgSession`)."""
        import psycopg

        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as exc:
            raise pg_error(exc, "cannot commit") from exc

    def close(self) -> None:
        self._conn.close()

    def size_bytes(self) -> int:
        return self._int("SELECT pg_database_size(current_database())")

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise pg_error(exc, what) from exc

    def _int(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._errors("cannot read the store"):
            row = self._conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    _P = "%s"
    _DIFFERS = "IS DISTINCT FROM"

    def _live(self, sql: str, params: list[Any], what: str) -> list[tuple[Any, ...]]:
        """Run one statement of :class:`LiveMixin`."""
        with self._errors(what):
            cur = self._conn.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def _live_many(self, sql: str, rows: list[list[Any]], what: str) -> None:
        """Run one statement of :class:`LiveMixin` per row."""
        with self._errors(what):
            self._conn.cursor().executemany(sql, rows)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._errors("cannot read the store"):
            cur = self._conn.cursor(row_factory=self._dict_row)
            return list(cur.execute(sql, params).fetchall())

    # -- dedupe lookups --------------------------------------------------------------------

    def candidates(
        self, raw_hash: str, message_id: str | None, thread_names: Sequence[str] = ()
    ) -> Candidates:
        """One round trip: whatever is deferred (the savepoint, the claim), the documents
        with these bytes or this Message-ID, and the threads naming ``thread_names``."""
        names = list(dict.fromkeys(thread_names))
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "SELECT id, message_id, headers_hash, body_hash, raw_size, raw_path,"
                " content_hash = %s FROM documents WHERE content_hash = %s OR message_id = %s"
                " ORDER BY seq",
                (raw_hash, raw_hash, message_id),
            )
        ]
        if names:
            statements.append((_THREADS_NAMING, (names, names)))
        with self._errors("cannot read the store"):
            cursors = self._conn.run(statements)
            rows = cursors[0].fetchall()
            threads = {str(r[0]) for r in cursors[1].fetchall()} if names else set()
        same = next((str(r[0]) for r in rows if r[6]), None)
        if same is not None:
            return Candidates(same, [], set())
        prints = [StoredPrint(*r[:6]) for r in rows if r[1] == message_id]
        return Candidates(None, prints, threads)

    def id_by_content_hash(self, raw_hash: str) -> str | None:
        with self._errors("cannot read the store"):
            row = self._conn.execute(
                "SELECT id FROM documents WHERE content_hash = %s", (raw_hash,)
            ).fetchone()
        return None if row is None else str(row[0])

    def ids_by_content_hash(self, raw_hashes: Iterable[str]) -> dict[str, str]:
        hashes = list(dict.fromkeys(raw_hashes))
        if not hashes:
            return {}
        with self._errors("cannot read the store"):
            rows = self._conn.execute(
                "SELECT content_hash, id FROM documents WHERE content_hash = ANY(%s)", (hashes,)
            ).fetchall()
        return {str(h): str(i) for h, i in rows}

    def prints_by_message_id(self, message_ids: Iterable[str]) -> list[StoredPrint]:
        ids = list(dict.fromkeys(m for m in message_ids if m))
        if not ids:
            return []
        rows = self._dicts(
            "SELECT id, message_id, headers_hash, body_hash, raw_size, raw_path"
            " FROM documents WHERE message_id = ANY(%s) ORDER BY seq",
            (ids,),
        )
        return [
            StoredPrint(
                id=r["id"],
                message_id=r["message_id"],
                headers_hash=r["headers_hash"],
                body_hash=r["body_hash"],
                raw_size=r["raw_size"],
                raw_path=r["raw_path"],
            )
            for r in rows
        ]

    def ids_by_message_id(self, message_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(m for m in message_ids if m))
        if not ids:
            return {}
        found: dict[str, str] = {}
        with self._errors("cannot read the store"):
            for mid, doc_id in self._conn.execute(
                "SELECT message_id, id FROM documents WHERE message_id = ANY(%s) ORDER BY seq",
                (ids,),
            ):
                found.setdefault(mid, doc_id)
        return found

    def thread_of(self, document_id: str) -> str | None:
        with self._errors("cannot read the store"):
            row = self._conn.execute(
                "SELECT thread_id FROM documents WHERE id = %s", (document_id,)
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    # -- document writes -------------------------------------------------------------------

    def claim(self, document_id: str) -> None:
        """Writers of one document id take turns until this transaction ends: an advisory
        lock on the id's 64-bit hash (another id sharing the hash only waits a little).
        Sent with the next statement (:meth:`candidates`), in the same round trip."""
        self._conn.defer("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (document_id,))

    def insert_document(
        self, row: DocumentRow, assets: Sequence[AssetRow], location: SourceLocation
    ) -> str | None:
        values = tuple(_clean(v) for v in document_values(row))
        vector = search_vector(
            row.subject, row.sender_name, row.sender_email, row.recipients, row.body_text
        )
        where = _location_values(row.id, location, row.created_at)[1:]
        chain = [_clean(ref) for ref in row.thread_chain]
        with self._errors(f"cannot store message from {location.key()}"):
            inserted = self._conn.execute(
                _INSERT_DOCUMENT, (*values, vector, *where, chain)
            ).fetchone()
            if inserted is None:  # a UNIQUE constraint: the document is there already
                found = self._conn.execute(
                    "SELECT id FROM documents WHERE id = %s OR content_hash = %s"
                    " OR (message_id = %s AND headers_hash = %s AND body_hash = %s)"
                    " ORDER BY seq LIMIT 1",
                    (row.id, row.content_hash, values[2], row.headers_hash, row.body_hash),
                ).fetchone()
                if found is None:  # pragma: no cover - the winner was rolled back meanwhile
                    raise StoreError(f"cannot store message from {location.key()}: retry")
                return str(found[0])
            if assets:
                with self._conn.cursor() as cur:
                    cur.executemany(
                        _INSERT_ASSET,
                        [tuple(_clean(v) for v in asset_values(a)) for a in assets],
                    )
                    # In batches of about 1 MB, not all at once: a text held as its
                    # file's bytes (``AssetText.held_as``) is decoded for its row, and
                    # psycopg keeps a call's rows until it returns.
                    texts = (
                        (a.id, a.document_id, *_text_values(a.text))
                        for a in assets
                        if a.text is not None
                    )
                    for batch in _text_batches(texts):
                        cur.executemany(_INSERT_TEXT, batch)
        return None

    def insert_location(self, document_id: str, location: SourceLocation, seen_at: str) -> None:
        with self._errors("cannot record a location"):
            self._insert_location(document_id, location, seen_at)

    def _insert_location(self, document_id: str, location: SourceLocation, seen_at: str) -> None:
        self._conn.execute(_INSERT_LOCATION, _location_values(document_id, location, seen_at))

    # -- threads ---------------------------------------------------------------------------

    def thread_ids_naming(self, message_ids: Sequence[str]) -> set[str]:
        names = list(dict.fromkeys(message_ids))
        if not names:
            return set()
        with self._errors("cannot read the store"):
            rows = self._conn.execute(_THREADS_NAMING, (names, names)).fetchall()
        return {str(r[0]) for r in rows}

    def thread_members(
        self, thread_ids: Iterable[str]
    ) -> tuple[list[ThreadMessage], dict[str, str | None]]:
        ids = sorted(set(thread_ids))
        if not ids:
            return [], {}
        with self._errors("cannot read the store"):
            rows = self._conn.execute(
                f"SELECT {_MEMBER_COLUMNS}, l.position, l.message_id, d.thread_id"
                " FROM documents d LEFT JOIN thread_links l ON l.document_id = d.id"
                " WHERE d.thread_id = ANY(%s) ORDER BY d.id, l.position",
                (ids,),
            ).fetchall()
        return thread_messages(rows), {str(r[0]): r[8] for r in rows}

    def set_thread_ids(self, changes: Sequence[tuple[str, str]]) -> None:
        if changes:
            with self._errors("cannot store the thread"), self._conn.cursor() as cur:
                cur.executemany("UPDATE documents SET thread_id = %s WHERE id = %s", changes)

    def get_metadata(self, document_id: str) -> DocumentMetadata | None:
        with self._errors("cannot read the store"):
            row = self._conn.execute(
                # FOR UPDATE: the policy reads, changes and writes metadata back (Message-ID
                # conflict links, Gmail labels); a concurrent writer of the same document
                # waits for this transaction instead of losing its change or ours.
                "SELECT metadata::text FROM documents WHERE id = %s FOR UPDATE",
                (document_id,),
            ).fetchone()
        if row is None:
            return None
        value: DocumentMetadata = json.loads(row[0])  # written by the store: trusted
        return value

    def set_metadata(self, document_id: str, metadata: DocumentMetadata) -> None:
        with self._errors("cannot store the document's metadata"):
            self._conn.execute(
                "UPDATE documents SET metadata = %s::json WHERE id = %s",
                (_clean(dumps(metadata)), document_id),
            )

    def delete_document(self, document_id: str) -> list[str]:
        with self._errors(f"cannot delete document {document_id}"), self._conn.transaction():
            row = self._conn.execute(
                "SELECT raw_path, body_html_path FROM documents WHERE id = %s FOR UPDATE",
                (document_id,),
            ).fetchone()
            if row is None:
                raise DocumentNotFoundError(
                    f"no document with id {document_id!r}; run `mailatlas list` to see ids"
                )
            keys = [row[0], row[1]]
            keys += [
                r[0]
                for r in self._conn.execute(
                    "SELECT file_path FROM assets WHERE document_id = %s ORDER BY ordinal",
                    (document_id,),
                )
            ]
            self._conn.execute("DELETE FROM documents WHERE id = %s", (document_id,))
        return [k for k in keys if k]

    # -- failures, runs, cursors -----------------------------------------------------------

    def upsert_failure(self, failure: FailureRow) -> None:
        with self._errors("cannot record a failure"):
            self._conn.execute(
                "INSERT INTO failures (id, run_id, kind, source, location, reason, raw_path,"
                " content_hash, created_at) VALUES (%s, %s, %s, %s, %s::json, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id,"
                " kind = excluded.kind, source = excluded.source,"
                " location = excluded.location, reason = excluded.reason,"
                " raw_path = excluded.raw_path, content_hash = excluded.content_hash,"
                " created_at = excluded.created_at",
                tuple(
                    _clean(v)
                    for v in (
                        failure.id,
                        failure.run_id,
                        failure.kind,
                        failure.source,
                        dumps(failure.location),
                        failure.reason,
                        failure.raw_path,
                        failure.content_hash,
                        failure.created_at,
                    )
                ),
            )

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        where, params = ("WHERE f.run_id = %s", [run_id]) if run_id is not None else ("", [])
        rows = self._dicts(
            "SELECT f.id, f.created_at, f.run_id, r.kind AS run_kind, f.kind, f.source,"
            " f.reason, f.raw_path FROM failures f LEFT JOIN runs r ON r.id = f.run_id"
            f" {where} ORDER BY f.created_at DESC, f.id LIMIT %s OFFSET %s",
            [*params, max(0, limit), max(0, offset)],
        )
        return [failure_from_row(_row(r)) for r in rows]

    def count_failures(self, *, run_id: int | None = None) -> int:
        if run_id is None:
            return self._int("SELECT count(*) FROM failures")
        return self._int("SELECT count(*) FROM failures WHERE run_id = %s", (run_id,))

    def iter_failures(self) -> Iterator[FailureRow]:
        rows = self._dicts(
            "SELECT id, run_id, kind, source, location::text AS location, reason, raw_path,"
            " content_hash, created_at FROM failures ORDER BY created_at, id"
        )
        for r in rows:
            yield failure_row(_row(r))

    def start_run(self, kind: str, detail: dict[str, Any], started_at: str) -> int:
        with self._errors("cannot record the run"):
            row = self._conn.execute(
                "INSERT INTO runs (kind, detail, started_at) VALUES (%s, %s::json, %s)"
                " RETURNING id",
                (kind, _clean(dumps(detail)), started_at),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any], at: str) -> None:
        with self._errors("cannot record the end of the run"):
            self._conn.execute(
                "UPDATE runs SET status = %s, summary = %s::json, finished_at = %s WHERE id = %s",
                (status, _clean(dumps(summary)), at, run_id),
            )

    def running_runs(self) -> list[RunRow]:
        rows = self._dicts(
            "SELECT id, detail::text AS detail FROM runs WHERE status = 'running' ORDER BY id"
        )
        out = []
        for r in rows:
            try:
                detail = json.loads(r["detail"] or "{}")
            except ValueError:
                detail = {}
            out.append(RunRow(id=int(r["id"]), detail=detail if isinstance(detail, dict) else {}))
        return out

    def interrupt_runs(self, run_ids: Sequence[int], summary: dict[str, Any], at: str) -> None:
        if not run_ids:
            return
        with self._errors("cannot check the store's earlier runs"):
            self._conn.execute(
                "UPDATE runs SET status = 'interrupted', summary = coalesce(summary, %s::json),"
                " finished_at = %s WHERE id = ANY(%s) AND status = 'running'",
                (dumps(summary), at, list(run_ids)),
            )

    def get_cursor(self, host: str, port: int, username: str, folder: str) -> ImapCursor | None:
        rows = self._dicts(
            "SELECT * FROM imap_cursors WHERE host = %s AND port = %s AND username = %s"
            " AND folder = %s",
            (host, port, username, folder),
        )
        if not rows:
            return None
        return cursor_from_row(_row(rows[0]))

    def save_cursor(self, cursor: ImapCursor, at: str) -> None:
        with self._errors("cannot save the IMAP cursor"):
            self._conn.execute(
                "INSERT INTO imap_cursors (host, port, username, folder, uidvalidity, last_uid,"
                " highestmodseq, uidnext, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (host, port, username, folder) DO UPDATE SET"
                # Only forward within one UIDVALIDITY (see _sqlite_state.save_cursor).
                " uidvalidity = excluded.uidvalidity, last_uid = CASE"
                " WHEN imap_cursors.uidvalidity = excluded.uidvalidity"
                " THEN GREATEST(imap_cursors.last_uid, excluded.last_uid)"
                " ELSE excluded.last_uid END,"
                " highestmodseq = excluded.highestmodseq, uidnext = excluded.uidnext,"
                " updated_at = excluded.updated_at",
                (
                    cursor.host,
                    cursor.port,
                    _clean(cursor.username),
                    _clean(cursor.folder),
                    cursor.uidvalidity,
                    cursor.last_uid,
                    cursor.highestmodseq,
                    cursor.uidnext,
                    cursor.created_at or at,
                    at,
                ),
            )

    # -- reads -----------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        rows = self._dicts(
            "SELECT id, source_kind, message_id, thread_id, subject, sender_name, sender_email,"
            " author, received_at, published_at, body_text, body_html_path, raw_path,"
            " content_hash, metadata::text AS metadata, created_at FROM documents"
            " WHERE id = %s",
            (document_id,),
        )
        if not rows:
            raise DocumentNotFoundError(
                f"no document with id {document_id!r}; run `mailatlas list` to see ids"
            )
        assets = [
            asset_from_row(_row(r), _key)
            for r in self._dicts(
                "SELECT * FROM assets WHERE document_id = %s ORDER BY ordinal", (document_id,)
            )
        ]
        texts = {
            r["asset_id"]: _text(r)
            for r in self._dicts(
                f"SELECT {_TEXT_SUMMARY} FROM asset_texts WHERE document_id = %s", (document_id,)
            )
        }
        assets = [replace(a, text=texts[a.id]) if a.id in texts else a for a in assets]
        locations = [
            location_from_row(_row(r))
            for r in self._dicts(
                "SELECT * FROM locations WHERE document_id = %s ORDER BY id", (document_id,)
            )
        ]
        return document_from_row(_row(rows[0]), _key, assets, locations)

    def get_asset(self, asset_id: str) -> Asset:
        rows = self._dicts("SELECT * FROM assets WHERE id = %s", (asset_id,))
        if not rows:
            raise DocumentNotFoundError(
                f"no attachment with id {asset_id!r}; `mailatlas show ID` lists them"
            )
        asset = asset_from_row(_row(rows[0]), _key)
        texts = self._dicts(
            f"SELECT {_TEXT_SUMMARY}, text FROM asset_texts WHERE asset_id = %s", (asset_id,)
        )
        return replace(asset, text=_text(texts[0], with_text=True)) if texts else asset

    def get_ref(self, document_id: str) -> DocumentRef:
        rows = self._dicts(
            "SELECT id, subject, source_kind, created_at, sender_email, received_at"
            " FROM documents WHERE id = %s",
            (document_id,),
        )
        if not rows:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return ref_from_row(_row(rows[0]))

    def assets_without_text(self, limit: int = 100) -> list[Asset]:
        rows = self._dicts(
            "SELECT * FROM assets a WHERE NOT EXISTS"
            " (SELECT 1 FROM asset_texts t WHERE t.asset_id = a.id)"
            " ORDER BY a.document_id, a.ordinal LIMIT %s",
            (max(0, limit),),
        )
        return [asset_from_row(_row(r), _key) for r in rows]

    def save_asset_text(self, asset_id: str, text: AssetText) -> None:
        with self._errors("cannot store attachment text"), self._conn.transaction():
            self._conn.execute(
                "INSERT INTO asset_texts (asset_id, document_id, status, chars, truncated,"
                " error, extractor, text, search) SELECT id, document_id, %s, %s, %s, %s, %s,"
                " %s, %s::tsvector FROM assets WHERE id = %s ON CONFLICT (asset_id) DO NOTHING",
                (*_text_values(text), asset_id),
            )

    def list_documents(self, flt: ListFilter) -> list[DocumentRef]:
        query = search_query(flt.query) if flt.query else None
        walk = query is not None and self._common(query)
        sql, params = pg_list_query(flt, walk=walk)
        refs = [ref_from_row(_row(r)) for r in self._search(sql, params)]
        if query is None or not refs:
            return refs
        ids = [r.id for r in refs]
        in_body = {
            r["id"]
            for r in self._search(
                "SELECT id FROM documents WHERE id = ANY(%s) AND search @@ %s::tsquery",
                (ids, query),
            )
        }
        in_assets: dict[str, list[str]] = {}
        for r in self._search(
            "SELECT document_id, asset_id FROM asset_texts WHERE document_id = ANY(%s)"
            " AND search @@ %s::tsquery ORDER BY asset_id",
            (ids, query),
        ):
            in_assets.setdefault(r["document_id"], []).append(r["asset_id"])
        return with_matches(refs, in_body, in_assets)

    def _common(self, query: str) -> bool:
        """Whether at least ``COMMON_QUERY_THRESHOLD`` messages match (see pg_list_query)."""
        rows = self._search(
            "SELECT count(*) AS n FROM (SELECT 1 FROM documents"
            " WHERE search @@ %s::tsquery LIMIT %s) m",
            (query, COMMON_QUERY_THRESHOLD),
        )
        return int(rows[0]["n"]) >= COMMON_QUERY_THRESHOLD

    def count_documents(self, flt: ListFilter) -> int:
        sql, params = pg_count_query(flt)
        rows = self._search(sql, params)
        return int(next(iter(rows[0].values())))

    def _search(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        import psycopg

        try:
            cur = self._conn.cursor(row_factory=self._dict_row)
            return list(cur.execute(sql, params).fetchall())
        except psycopg.errors.SyntaxError as exc:  # pragma: no cover - search_query checks
            raise InvalidFilterError(f"cannot search: {exc}") from exc
        except psycopg.Error as exc:
            raise pg_error(exc, "cannot search") from exc

    def counts(self) -> dict[str, Any]:
        one = self._int
        kinds = self._dicts(
            "SELECT source_kind, count(*) AS n FROM documents GROUP BY source_kind"
            " ORDER BY 2 DESC, 1"
        )
        folders = self._dicts(
            "SELECT folder, count(DISTINCT document_id) AS n FROM locations"
            " WHERE folder IS NOT NULL GROUP BY folder ORDER BY 2 DESC, 1"
        )
        dates = self._dicts(
            "SELECT min(coalesce(published_at, received_at)) AS oldest,"
            " max(coalesce(published_at, received_at)) AS newest FROM documents"
        )[0]
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "assets": one("SELECT count(*) FROM assets"),
            "asset_bytes": one("SELECT coalesce(sum(size), 0) FROM assets"),
            "locations": one("SELECT count(*) FROM locations"),
            "failures": one("SELECT count(*) FROM failures"),
            "runs": one("SELECT count(*) FROM runs"),
            "by_source_kind": {str(r["source_kind"]): int(r["n"]) for r in kinds},
            "by_folder": {str(r["folder"]): int(r["n"]) for r in folders},
            "oldest": dates["oldest"],
            "newest": dates["newest"],
        }


def _location_values(document_id: str, location: SourceLocation, seen_at: str) -> tuple[Any, ...]:
    """The columns of a ``locations`` row (``_LOCATION_COLUMNS``), in order."""
    return tuple(_clean(v) for v in location_values(document_id, location, seen_at))


def _text(row: dict[str, Any], *, with_text: bool = False) -> AssetText:
    return AssetText(
        status=row["status"],
        text=row["text"] if with_text else None,
        chars=row["chars"],
        truncated=bool(row["truncated"]),
        error=row["error"],
        extractor=row["extractor"],
    )
