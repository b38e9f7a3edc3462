"""The bookkeeping rows of the SQLite backend: IMAP cursors, runs and kept failures."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ._backend import FailureRow, RunRow
from ._model import ImapCursor
from ._rows import cursor_from_row, failure_row
from ._sqlite_conn import db_error, dumps, scrub

__all__ = ["StateMixin"]


class StateMixin:
    """Cursors, runs and failures, for :class:`~.sqlite_backend.SQLiteBackend`."""

    _conn: sqlite3.Connection

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the backend."""

    def upsert_failure(self, failure: FailureRow) -> None:
        """Insert a failure, or replace the one with the same id."""
        try:
            with self.transaction():
                self._conn.execute(
                    "INSERT OR REPLACE INTO failures (id, run_id, kind, source, location, reason,"
                    " raw_path, content_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        failure.id,
                        failure.run_id,
                        failure.kind,
                        failure.source,
                        dumps(failure.location),
                        scrub(failure.reason),
                        failure.raw_path,
                        failure.content_hash,
                        failure.created_at,
                    ),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record a failure") from exc

    def iter_failures(self) -> Iterator[FailureRow]:
        """Every recorded failure, oldest first."""
        for r in self._conn.execute("SELECT * FROM failures ORDER BY created_at"):
            yield failure_row(r)

    # -- IMAP cursors ----------------------------------------------------------------------

    def get_cursor(self, host: str, port: int, username: str, folder: str) -> ImapCursor | None:
        """The stored cursor of one IMAP folder, if any."""
        try:
            r = self._conn.execute(
                "SELECT * FROM imap_cursors"
                " WHERE host = ? AND port = ? AND username = ? AND folder = ?",
                (host, port, username, folder),
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the IMAP cursor") from exc
        if r is None:
            return None
        return cursor_from_row(r)

    def save_cursor(self, cursor: ImapCursor, at: str) -> None:
        """Create or replace the cursor of one IMAP folder."""
        try:
            with self.transaction():
                self._conn.execute(
                    "INSERT INTO imap_cursors (host, port, username, folder, uidvalidity,"
                    " last_uid, highestmodseq, uidnext, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (host, port, username, folder) DO UPDATE SET"
                    # Within one UIDVALIDITY the cursor only moves forward: a worker whose
                    # lease expired may commit its last batch after the worker that took
                    # the folder over has gone further (docs/scale-out.md).
                    " uidvalidity = excluded.uidvalidity, last_uid = CASE"
                    " WHEN imap_cursors.uidvalidity = excluded.uidvalidity"
                    " THEN max(imap_cursors.last_uid, excluded.last_uid)"
                    " ELSE excluded.last_uid END,"
                    " highestmodseq = excluded.highestmodseq, uidnext = excluded.uidnext,"
                    " updated_at = excluded.updated_at",
                    (
                        cursor.host,
                        cursor.port,
                        cursor.username,
                        cursor.folder,
                        cursor.uidvalidity,
                        cursor.last_uid,
                        cursor.highestmodseq,
                        cursor.uidnext,
                        cursor.created_at or at,
                        at,
                    ),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot save the IMAP cursor") from exc

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, kind: str, detail: dict[str, Any], started_at: str) -> int:
        """Insert a run (status ``running``); returns its id."""
        try:
            with self.transaction():
                cur = self._conn.execute(
                    "INSERT INTO runs (kind, detail, started_at) VALUES (?, ?, ?)",
                    (kind, dumps(detail), started_at),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record the run") from exc
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any], at: str) -> None:
        """Record how a run ended."""
        try:
            with self.transaction():
                self._conn.execute(
                    "UPDATE runs SET status = ?, summary = ?, finished_at = ? WHERE id = ?",
                    (status, dumps(summary), at, run_id),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record the end of the run") from exc

    def running_runs(self) -> list[RunRow]:
        """Runs still marked ``running``."""
        try:
            return [
                RunRow(id=int(run_id), detail=_json_object(detail))
                for run_id, detail in self._conn.execute(
                    "SELECT id, detail FROM runs WHERE status = 'running'"
                )
            ]
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot check the store's earlier runs") from exc

    def interrupt_runs(self, run_ids: Sequence[int], summary: dict[str, Any], at: str) -> None:
        """Mark these runs ``interrupted`` (if still ``running``)."""
        try:
            with self.transaction():
                self._conn.executemany(
                    "UPDATE runs SET status = 'interrupted', summary = coalesce(summary, ?),"
                    " finished_at = ? WHERE id = ? AND status = 'running'",
                    [(dumps(summary), at, run_id) for run_id in run_ids],
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot check the store's earlier runs") from exc


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
