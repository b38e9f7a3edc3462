"""Everyday questions to a SQLite backend: what failed, how big it is, deleting a document."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import DocumentNotFoundError
from ._model import StoredFailure
from ._rows import failure_from_row
from ._sqlite_conn import db_error

__all__ = ["AdminMixin"]


class AdminMixin:
    """Failures, counts and deletion, for :class:`~.sqlite_backend.SQLiteBackend`."""

    _conn: sqlite3.Connection
    db_path: Path

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the backend."""

    # -- failures --------------------------------------------------------------------------

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        """Recorded failures, newest first, with the run each belongs to (raw_path a key)."""
        where, params = ("WHERE f.run_id = ?", [run_id]) if run_id is not None else ("", [])
        try:
            rows = self._conn.execute(
                "SELECT f.*, r.kind AS run_kind FROM failures f LEFT JOIN runs r ON r.id = f.run_id"
                f" {where} ORDER BY f.created_at DESC, f.id LIMIT ? OFFSET ?",
                [*params, max(0, limit), max(0, offset)],
            ).fetchall()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return [failure_from_row(r) for r in rows]

    def count_failures(self, *, run_id: int | None = None) -> int:
        """How many failures are recorded (in one run, if given)."""
        where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
        try:
            row = self._conn.execute(f"SELECT count(*) FROM failures {where}", params).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return int(row[0])

    # -- statistics ------------------------------------------------------------------------

    def size_bytes(self) -> int:
        """The database file with its -wal and -shm."""
        return sum(_size(Path(f"{self.db_path}{suffix}")) for suffix in ("", "-wal", "-shm"))

    def counts(self) -> dict[str, Any]:
        """The database half of ``StoreStats``."""
        try:
            one = self._scalar
            kinds = self._conn.execute(
                "SELECT source_kind, count(*) FROM documents GROUP BY source_kind ORDER BY 2 DESC"
            ).fetchall()
            folders = self._conn.execute(
                "SELECT folder, count(DISTINCT document_id) FROM locations"
                " WHERE folder IS NOT NULL GROUP BY folder ORDER BY 2 DESC, 1"
            ).fetchall()
            return {
                "documents": one("SELECT count(*) FROM documents"),
                "assets": one("SELECT count(*) FROM assets"),
                "asset_bytes": one("SELECT coalesce(sum(size), 0) FROM assets"),
                "locations": one("SELECT count(*) FROM locations"),
                "failures": one("SELECT count(*) FROM failures"),
                "runs": one("SELECT count(*) FROM runs"),
                "by_source_kind": {str(k): int(n) for k, n in kinds},
                "by_folder": {str(f): int(n) for f, n in folders},
                "oldest": self._text(
                    "SELECT min(coalesce(published_at, received_at)) FROM documents"
                ),
                "newest": self._text(
                    "SELECT max(coalesce(published_at, received_at)) FROM documents"
                ),
            }
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc

    def _scalar(self, sql: str) -> int:
        return int(self._conn.execute(sql).fetchone()[0])

    def _text(self, sql: str) -> str | None:
        value = self._conn.execute(sql).fetchone()[0]
        return None if value is None else str(value)

    # -- delete ----------------------------------------------------------------------------

    def delete_document(self, document_id: str) -> list[str]:
        """Delete a document's rows; return the blob keys they referred to.

        Raises:
            DocumentNotFoundError: there is no document with this id.
        """
        try:
            with self.transaction():
                row = self._conn.execute(
                    "SELECT raw_path, body_html_path FROM documents WHERE id = ?", (document_id,)
                ).fetchone()
                if row is None:
                    raise DocumentNotFoundError(
                        f"no document with id {document_id!r}; run `mailatlas list` to see ids"
                    )
                keys = [k for k in (row["raw_path"], row["body_html_path"]) if k]
                keys += [
                    r[0]
                    for r in self._conn.execute(
                        "SELECT file_path FROM assets WHERE document_id = ? ORDER BY ordinal",
                        (document_id,),
                    )
                ]
                # assets and locations go with it (ON DELETE CASCADE); a trigger drops
                # the full-text entry.
                self._conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        except sqlite3.Error as exc:
            raise db_error(exc, f"cannot delete document {document_id}") from exc
        return keys


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
