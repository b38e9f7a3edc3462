"""The work queue in PostgreSQL: ``FOR UPDATE SKIP LOCKED`` plus a per-account lock.

Many workers on many hosts claim at once. Each claim locks one candidate row with
``FOR UPDATE SKIP LOCKED`` (so claimers never wait on each other's rows and never take
the same item), then takes a transaction-scoped advisory lock on the item's account and
recounts that account's live leases: two claimers of different folders of one account
are serialised there, so the account's ``max_connections`` holds. Times are Unix seconds
of the database server's clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ._dates import utc_now_iso
from ._pg_session import PgSession
from ._sqlite_work import given_up, work_item
from ._work import WorkItem, WorkState

__all__ = ["PgWorkMixin"]

_NOW = "extract(epoch FROM clock_timestamp())::double precision"
_CANDIDATE = f"""
SELECT w.account, w.folder, w.state, w.attempts, w.max_connections,
       {_NOW} AS now
FROM work_items AS w
WHERE (w.state = 'pending' OR (w.state = 'leased' AND w.lease_expires < {_NOW}))
  AND (%(accounts)s::text[] IS NULL OR w.account = ANY(%(accounts)s::text[]))
  AND NOT (w.account = ANY(%(skip)s::text[]))
  AND (SELECT count(*) FROM work_items AS l
       WHERE l.account = w.account AND l.state = 'leased' AND l.lease_expires >= {_NOW})
      < w.max_connections
ORDER BY w.enqueued_at, w.account, w.folder
LIMIT 1
FOR UPDATE OF w SKIP LOCKED
"""
_LIVE = (
    f"SELECT count(*) FROM work_items WHERE account = %s AND state = 'leased'"
    f" AND lease_expires >= {_NOW}"
)


class PgWorkMixin:
    """``enqueue_work``, ``claim_work``, ``renew_lease``, ``release_work``, ``list_work``."""

    _conn: PgSession

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the backend."""

        def _errors(self, what: str) -> AbstractContextManager[None]:
            """Provided by the backend."""

        def _dicts(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
            """Provided by the backend."""

    def enqueue_work(self, items: Iterable[tuple[str, str, int]]) -> int:
        now = utc_now_iso()
        rows = [(a, f, int(limit), now, now) for a, f, limit in items]
        done = "work_items.state IN ('done', 'failed')"
        with self._errors("cannot queue work"), self.transaction():
            with self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO work_items (account, folder, max_connections, enqueued_at,"
                    " updated_at) VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (account, folder) DO UPDATE SET"
                    " max_connections = excluded.max_connections,"
                    f" attempts = CASE WHEN {done} THEN 0 ELSE work_items.attempts END,"
                    f" error = CASE WHEN {done} THEN NULL ELSE work_items.error END,"
                    f" enqueued_at = CASE WHEN {done} THEN excluded.enqueued_at"
                    " ELSE work_items.enqueued_at END,"
                    f" state = CASE WHEN {done} THEN 'pending' ELSE work_items.state END,"
                    " updated_at = excluded.updated_at",
                    rows,
                )
            row = self._conn.execute(
                "SELECT count(*) FROM work_items WHERE state = 'pending'"
            ).fetchone()
        return int(row[0]) if row else 0

    def claim_work(
        self,
        owner: str,
        lease_seconds: float,
        *,
        accounts: Collection[str] | None = None,
        max_attempts: int | None = None,
    ) -> WorkItem | None:
        wanted = sorted(accounts) if accounts is not None else None
        skip: list[str] = []
        with self._errors("cannot claim work"), self.transaction():
            while True:
                rows = self._dicts(_CANDIDATE, {"accounts": wanted, "skip": skip})
                if not rows:
                    return None
                row = rows[0]
                account, folder = row["account"], row["folder"]
                expired = row["state"] == "leased"
                if expired and max_attempts is not None and row["attempts"] >= max_attempts:
                    self._conn.execute(
                        "UPDATE work_items SET state = 'failed', owner = NULL,"
                        " lease_expires = NULL, error = %s, updated_at = %s"
                        " WHERE account = %s AND folder = %s",
                        (given_up(row["attempts"]), utc_now_iso(), account, folder),
                    )
                    continue
                # Serialise claims within one account, then recount its live leases.
                self._conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('mailatlas-work'), hashtext(%s))",
                    (account,),
                )
                live = self._conn.execute(_LIVE, (account,)).fetchone()
                if live is not None and int(live[0]) >= int(row["max_connections"]):
                    skip.append(account)
                    continue
                (leased,) = self._dicts(
                    "UPDATE work_items SET state = 'leased', owner = %s,"
                    f" lease_expires = {_NOW} + %s, heartbeat_at = {_NOW},"
                    " attempts = attempts + 1, updated_at = %s"
                    " WHERE account = %s AND folder = %s RETURNING *",
                    (owner, lease_seconds, utc_now_iso(), account, folder),
                )
                return work_item(leased)

    def renew_lease(self, account: str, folder: str, owner: str, lease_seconds: float) -> bool:
        with self._errors("cannot renew a lease"):
            cur = self._conn.execute(
                f"UPDATE work_items SET lease_expires = {_NOW} + %s, heartbeat_at = {_NOW}"
                " WHERE account = %s AND folder = %s AND owner = %s AND state = 'leased'",
                (lease_seconds, account, folder, owner),
            )
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
        with self._errors("cannot release work"):
            cur = self._conn.execute(
                "UPDATE work_items SET state = %s, owner = NULL, lease_expires = NULL,"
                " error = %s, run_id = coalesce(%s, run_id), updated_at = %s"
                " WHERE account = %s AND folder = %s AND owner = %s AND state = 'leased'",
                (state, error, run_id, utc_now_iso(), account, folder, owner),
            )
        return cur.rowcount == 1

    def list_work(self, *, accounts: Collection[str] | None = None) -> list[WorkItem]:
        wanted = sorted(accounts) if accounts is not None else None
        rows = self._dicts(
            "SELECT * FROM work_items WHERE %(a)s::text[] IS NULL OR account = ANY(%(a)s::text[])"
            ' ORDER BY account COLLATE "C", folder COLLATE "C"',
            {"a": wanted},
        )
        return [work_item(r) for r in rows]
