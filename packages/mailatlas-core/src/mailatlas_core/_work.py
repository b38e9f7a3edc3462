"""The work queue shared by ``mailatlas worker`` processes: items and their leases.

A work item is one (account, folder) to sync. A worker *claims* an item, which leases it
for a number of seconds; it *renews* the lease while it works (a heartbeat) and
*releases* the item when done. A worker that dies stops renewing: once its lease
expires, another worker claims the item and resumes from the folder's committed cursor.
Live leases of one account never exceed the account's ``max_connections``. See
:class:`mailatlas_core._store.Store` (``enqueue_work``, ``claim_work``, ``renew_lease``,
``release_work``, ``list_work``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["WorkItem", "WorkState"]

WorkState = Literal["pending", "leased", "done", "failed"]


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One (account, folder) of the work queue.

    Attributes:
        account, folder: what to sync (the account's name in the accounts file).
        state: ``pending`` (waiting), ``leased`` (a worker has it until
            ``lease_expires``), ``done`` or ``failed`` (``error`` says why).
        owner: the worker holding the lease (``host:pid:random``), else ``None``.
        lease_expires: when the lease ends, in Unix seconds (the store's clock).
        attempts: how many times the item was claimed since it was last enqueued.
        max_connections: the account's connection limit, across all workers.
        run_id: the sync run that last released the item.
    """

    account: str
    folder: str
    state: WorkState
    owner: str | None
    lease_expires: float | None
    attempts: int
    max_connections: int
    error: str | None
    run_id: int | None
    updated_at: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.account, self.folder)
