"""The work queue in SQLite: leases taken under ``BEGIN IMMEDIATE``.

SQLite has one writer at a time, so a claim (find a free item whose account has a free
connection, then lease it) runs inside one write transaction and no two workers can
take the same item or overrun an account's limit: the same guarantee PostgreSQL gives
with ``FOR UPDATE SKIP LOCKED``. Times are Unix seconds from this host's clock (every
writer of an SQLite store shares the host).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from ._dates import utc_now_iso
from ._sqlite_conn import db_error
from ._work import WorkItem, WorkState

__all__ = ["WorkMixin", "given_up", "work_item"]

_CANDIDATE = """
SELECT w.account, w.folder, w.state, w.attempts FROM work_items AS w
WHERE (w.state = 'pending' OR (w.state = 'leased' AND w.lease_expires < :now))
  AND (:accounts IS NULL OR w.account IN (SELECT value FROM json_each(:accounts)))
  AND (SELECT count(*) FROM work_items AS l
       WHERE l.account = w.account AND l.state = 'leased' AND l.lease_expires >= :now)
      < w.max_connections
ORDER BY w.enqueued_at, w.account, w.folder
LIMIT 1
"""


class WorkMixin:
    """``enqueue_work``, ``claim_work``, ``renew_lease``, ``release_work``, ``list_work``."""

    _conn: sqlite3.Connection

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the store."""

    def enqueue_work(self, items: Iterable[tuple[str, str, int]]) -> int:
        """Queue (account, folder, max_connections) items for a sync pass.

        A new item is ``pending``; a ``done`` or ``failed`` one becomes ``pending`` again
        (a new pass); a ``pending`` or ``leased`` one stays as it is. Every item takes the
        given connection limit. Returns how many items are pending afterwards.
        """
        now = utc_now_iso()
        try:
            with self.transaction():
                self._conn.executemany(
                    "INSERT INTO work_items (account, folder, max_connections, enqueued_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (account, folder) DO UPDATE SET"
                    " max_connections = excluded.max_connections,"
                    " attempts = CASE WHEN state IN ('done', 'failed') THEN 0 ELSE attempts END,"
                    " error = CASE WHEN state IN ('done', 'failed') THEN NULL ELSE error END,"
                    " enqueued_at = CASE WHEN state IN ('done', 'failed')"
                    "   THEN excluded.enqueued_at ELSE enqueued_at END,"
                    " state = CASE WHEN state IN ('done', 'failed') THEN 'pending' ELSE state END,"
                    " updated_at = excluded.updated_at",
                    [(a, f, int(limit), now, now) for a, f, limit in items],
                )
                row = self._conn.execute(
                    "SELECT count(*) FROM work_items WHERE state = 'pending'"
                ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot queue work") from exc
        return int(row[0])

    def claim_work(
        self,
        owner: str,
        lease_seconds: float,
        *,
        accounts: Collection[str] | None = None,
        max_attempts: int | None = None,
    ) -> WorkItem | None:
        """Lease the next item that is free and whose account has a connection to spare.

        Free: ``pending``, or ``leased`` with an expired lease (its worker died). Only
        items of ``accounts`` are considered when given. An expired item already claimed
        ``max_attempts`` times is marked ``failed`` instead of being leased again.
        Returns the leased item, or ``None`` when nothing can be taken now.
        """
        wanted = json.dumps(sorted(accounts)) if accounts is not None else None
        try:
            with self.transaction():
                while True:
                    now = time.time()
                    row = self._conn.execute(
                        _CANDIDATE, {"now": now, "accounts": wanted}
                    ).fetchone()
                    if row is None:
                        return None
                    account, folder, state, attempts = row
                    if state == "leased" and max_attempts is not None and attempts >= max_attempts:
                        self._conn.execute(
                            "UPDATE work_items SET state = 'failed', owner = NULL,"
                            " lease_expires = NULL, error = ?, updated_at = ?"
                            " WHERE account = ? AND folder = ?",
                            (
                                given_up(attempts),
                                utc_now_iso(),
                                account,
                                folder,
                            ),
                        )
                        continue
                    self._conn.execute(
                        "UPDATE work_items SET state = 'leased', owner = ?, lease_expires = ?,"
                        " heartbeat_at = ?, attempts = attempts + 1, updated_at = ?"
                        " WHERE account = ? AND folder = ?",
                        (owner, now + lease_seconds, now, utc_now_iso(), account, folder),
                    )
                    return self._work_item(account, folder)
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot claim work") from exc

    def renew_lease(self, account: str, folder: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease (a heartbeat); ``False`` when ``owner`` no longer holds it."""
        now = time.time()
        try:
            with self.transaction():
                cur = self._conn.execute(
                    "UPDATE work_items SET lease_expires = ?, heartbeat_at = ?"
                    " WHERE account = ? AND folder = ? AND owner = ? AND state = 'leased'",
                    (now + lease_seconds, now, account, folder, owner),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot renew a lease") from exc
        return cur.rowcount == 1

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
        """End ``owner``'s lease, leaving the item ``done``, ``failed`` or ``pending``
        (to be taken again); ``False`` when ``owner`` no longer held it."""
        try:
            with self.transaction():
                cur = self._conn.execute(
                    "UPDATE work_items SET state = ?, owner = NULL, lease_expires = NULL,"
                    " error = ?, run_id = coalesce(?, run_id), updated_at = ?"
                    " WHERE account = ? AND folder = ? AND owner = ? AND state = 'leased'",
                    (state, error, run_id, utc_now_iso(), account, folder, owner),
                )
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot release work") from exc
        return cur.rowcount == 1

    def list_work(self, *, accounts: Collection[str] | None = None) -> list[WorkItem]:
        """Every item of the queue (of ``accounts``, if given), by account and folder."""
        wanted = json.dumps(sorted(accounts)) if accounts is not None else None
        try:
            rows = self._conn.execute(
                "SELECT * FROM work_items WHERE ? IS NULL OR account IN"
                " (SELECT value FROM json_each(?)) ORDER BY account, folder",
                (wanted, wanted),
            ).fetchall()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the work queue") from exc
        return [work_item(cast(Mapping[str, Any], r)) for r in rows]

    def _work_item(self, account: str, folder: str) -> WorkItem:
        row = self._conn.execute(
            "SELECT * FROM work_items WHERE account = ? AND folder = ?", (account, folder)
        ).fetchone()
        return work_item(cast(Mapping[str, Any], row))


def given_up(attempts: int) -> str:
    """Why an item whose workers kept dying is failed."""
    return f"given up: {attempts} workers took it and stopped without finishing"


def work_item(r: Mapping[str, Any]) -> WorkItem:
    """A ``work_items`` row (SQLite or PostgreSQL) as a :class:`WorkItem`."""
    return WorkItem(
        account=r["account"],
        folder=r["folder"],
        state=cast(WorkState, r["state"]),
        owner=r["owner"],
        lease_expires=r["lease_expires"],
        attempts=r["attempts"],
        max_connections=r["max_connections"],
        error=r["error"],
        run_id=r["run_id"],
        updated_at=r["updated_at"],
    )
