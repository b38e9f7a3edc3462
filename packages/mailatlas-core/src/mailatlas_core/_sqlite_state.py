"""The bookkeeping half of the SQLite store: IMAP cursors, runs and kept failures."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ._sqlite_conn import db_error, dumps, scrub
from .blobs import LocalBlobStore
from .dates import utc_now_iso
from .ids import content_hash
from .model import ImapCursor, SourceLocation
from .workspace import pid_alive

__all__ = ["StateMixin"]


class StateMixin:
    """Cursors, runs and failures, mixed into :class:`~mailatlas_core.sqlite_store.SQLiteStore`."""

    _conn: sqlite3.Connection
    blobs: LocalBlobStore

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the store."""

    def record_failure(
        self, location: SourceLocation, reason: str, raw: bytes | None, run_id: int | None = None
    ) -> str:
        """Keep a message that could not be processed, with its reason and raw bytes."""
        raw_hash = content_hash(raw) if raw is not None else None
        failure_id = content_hash(f"{location.key()}|{raw_hash}".encode())[:32]
        raw_rel = None
        if raw is not None:
            raw_rel = f"failures/{raw_hash}.eml"
            self.blobs.put(raw_rel, raw)
        try:
            with self.transaction():
                self._conn.execute(
                    "INSERT OR REPLACE INTO failures (id, run_id, kind, source, location, reason,"
                    " raw_path, content_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        failure_id,
                        run_id,
                        location.kind,
                        location.key(),
                        dumps(location.to_metadata()),
                        scrub(reason),
                        raw_rel,
                        raw_hash,
                        utc_now_iso(),
                    ),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record a failure") from exc
        return failure_id

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
        return ImapCursor(
            host=r["host"],
            port=r["port"],
            username=r["username"],
            folder=r["folder"],
            uidvalidity=r["uidvalidity"],
            last_uid=r["last_uid"],
            highestmodseq=r["highestmodseq"],
            uidnext=r["uidnext"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )

    def save_cursor(self, cursor: ImapCursor) -> None:
        """Create or replace the cursor of one IMAP folder."""
        now = utc_now_iso()
        try:
            with self.transaction():
                self._conn.execute(
                    "INSERT INTO imap_cursors (host, port, username, folder, uidvalidity,"
                    " last_uid, highestmodseq, uidnext, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (host, port, username, folder) DO UPDATE SET"
                    " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
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
                        cursor.created_at or now,
                        now,
                    ),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot save the IMAP cursor") from exc

    # -- runs and failures -----------------------------------------------------------------

    def start_run(self, kind: str, detail: dict[str, Any]) -> int:
        """Record the start of an ingest or sync run; returns its id.

        ``detail`` gains ``process`` (pid and host), so that a later writer can tell a
        run whose process died (:meth:`recover_interrupted`).
        """
        detail = {**detail, "process": {"pid": os.getpid(), "host": socket.gethostname()}}
        try:
            with self.transaction():
                cur = self._conn.execute(
                    "INSERT INTO runs (kind, detail, started_at) VALUES (?, ?, ?)",
                    (kind, dumps(detail), utc_now_iso()),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record the run") from exc
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended."""
        try:
            with self.transaction():
                self._conn.execute(
                    "UPDATE runs SET status = ?, summary = ?, finished_at = ? WHERE id = ?",
                    (status, dumps(summary), utc_now_iso(), run_id),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot record the end of the run") from exc

    def recover_interrupted(self) -> list[int]:
        """Clean up after writers that died (SIGKILL, OOM killer, power cut).

        Removes their temp files (copies of private mail) and marks their runs, still
        ``running``, as ``interrupted``; returns the ids of those runs. Runs of live
        processes, and of other hosts, are left alone. Writers call this when they open
        a store.
        """
        self.blobs.recover()
        host = socket.gethostname()
        try:
            dead = []
            for run_id, detail in self._conn.execute(
                "SELECT id, detail FROM runs WHERE status = 'running'"
            ):
                process = _json_object(detail).get("process")
                if not isinstance(process, dict) or process.get("host") != host:
                    continue
                pid = process.get("pid")
                if isinstance(pid, int) and not pid_alive(pid):
                    dead.append(run_id)
            if dead:
                summary = dumps({"reason": "the process ended before the run finished"})
                with self.transaction():
                    self._conn.executemany(
                        "UPDATE runs SET status = 'interrupted', summary = coalesce(summary, ?),"
                        " finished_at = ? WHERE id = ? AND status = 'running'",
                        [(summary, utc_now_iso(), run_id) for run_id in dead],
                    )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot check the store's earlier runs") from exc
        return dead

    def iter_failures(self) -> Iterator[dict[str, Any]]:
        """Every recorded failure: source, reason, raw path, run, time."""
        for r in self._conn.execute("SELECT * FROM failures ORDER BY created_at"):
            yield {
                "id": r["id"],
                "run_id": r["run_id"],
                "kind": r["kind"],
                "source": r["source"],
                "location": json.loads(r["location"]),
                "reason": r["reason"],
                "raw_path": _locate(self.blobs, r["raw_path"]),
                "content_hash": r["content_hash"],
                "created_at": r["created_at"],
            }


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _locate(blobs: LocalBlobStore, key: str | None) -> str | None:
    return None if key is None else blobs.locate(key)
