"""``run_worker``: take (account, folder) items from the store's work queue and sync them.

Any number of workers, on any hosts, share one store. Each claims an item (a lease of
``lease_seconds``), syncs that one folder with :func:`~mailatlas_imap.sync_imap` (which
commits the cursor with every batch), renews the lease from a heartbeat thread while it
works, and releases the item ``done`` or ``failed``. A worker that dies stops renewing:
when its lease expires another worker claims the item and resumes from the committed
cursor, so every message is stored once. The store counts live leases per account and
never grants more than the account's ``max_connections``.

A worker serves the accounts of its own accounts file (the secrets are read on its host)
and stops when no item of those accounts is pending or leased.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mailatlas_core import Store, WorkItem

from ._accounts import Account
from ._errors import ImapAuthError, ImapConfigError, ImapConnectionError, SecretUnavailableError
from ._result import FolderResult
from ._secrets import Scrubber

__all__ = [
    "ItemResult",
    "LeaseLost",
    "WorkerInterrupted",
    "WorkerResult",
    "enqueue_accounts",
    "run_worker",
    "worker_id",
]

log = logging.getLogger("mailatlas_imap")

DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_MAX_ATTEMPTS = 5
# Longest wait for a busy queue to free an item: a worker that finished first notices
# the last item done within this (a run of local workers ends that much later).
IDLE_POLL_SECONDS = 0.25

ItemStatus = Literal["done", "failed", "lost", "interrupted"]


class LeaseLost(Exception):
    """The worker's lease ran out and another worker took the item: stop syncing it."""


@dataclass(slots=True)
class ItemResult:
    """What a worker did with one item.

    ``status``: ``done``, ``failed`` (``error`` says why; the item is left failed),
    ``lost`` (the lease expired under it and another worker took over) or
    ``interrupted`` (the worker was stopped; the item was put back for another worker).
    """

    account: str
    folder: str
    status: ItemStatus
    attempt: int
    folder_result: FolderResult | None = None
    run_id: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The item as ``mailatlas worker`` prints it; ``folder_result`` is the folder's
        entry of a ``sync imap`` summary (``null`` when the sync never started)."""
        return {
            "account": self.account,
            "folder": self.folder,
            "status": self.status,
            "attempt": self.attempt,
            "run_id": self.run_id,
            "error": self.error,
            "folder_result": self.folder_result.to_dict() if self.folder_result else None,
        }


@dataclass(slots=True)
class WorkerResult:
    """Everything one worker did, item by item."""

    owner: str
    items: list[ItemResult] = field(default_factory=list)
    duration_s: float = 0.0
    interrupted: bool = False

    @property
    def status(self) -> str:
        """``ok`` unless an item failed (a lost item is another worker's to finish):
        ``error`` when every item failed, else ``partial``; or ``interrupted``."""
        if self.interrupted:
            return "interrupted"
        failed = sum(1 for i in self.items if i.status == "failed")
        if not failed:
            return "ok"
        return "error" if failed == len(self.items) else "partial"

    def _total(self, name: str) -> int:
        return sum(int(getattr(i.folder_result, name)) for i in self.items if i.folder_result)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``mailatlas worker`` prints."""
        return {
            "status": self.status,
            "worker": self.owner,
            "item_count": len(self.items),
            "error_count": sum(1 for i in self.items if i.status == "failed"),
            "fetched_count": self._total("fetched_count"),
            "ingested_count": self._total("ingested_count"),
            "duplicate_count": self._total("duplicate_count"),
            "failed_count": self._total("failed_count"),
            "items": [i.to_dict() for i in self.items],
            "duration_s": round(self.duration_s, 3),
        }


class WorkerInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a worker; ``result`` says what it did before."""

    def __init__(self, result: WorkerResult) -> None:
        super().__init__("worker interrupted")
        self.result = result


def worker_id() -> str:
    """A name for this worker that no other worker shares: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _Heartbeat:
    """Renews the held lease every third of its length, from its own store connection."""

    def __init__(self, open_store: Callable[[], Store], owner: str, lease_seconds: float):
        self._open_store = open_store
        self._owner = owner
        self._lease = lease_seconds
        self._held: WorkItem | None = None
        self._lost = threading.Event()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="mailatlas-heartbeat", daemon=True)
        self._thread.start()

    def hold(self, item: WorkItem) -> None:
        with self._wake:
            self._held = item
            self._lost.clear()

    def drop(self) -> None:
        with self._wake:
            self._held = None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        store = self._open_store()
        try:
            while True:
                with self._wake:
                    self._wake.wait(timeout=max(self._lease / 3, 0.05))
                    if self._stopping:
                        return
                    held = self._held
                if held is None:
                    continue
                try:
                    kept = store.renew_lease(held.account, held.folder, self._owner, self._lease)
                except Exception as exc:  # a busy store: try again at the next beat
                    log.warning("could not renew the lease of %s/%s: %s", *held.key, exc)
                    continue
                if not kept:
                    self._lost.set()
        finally:
            store.close()


def run_worker(
    open_store: Callable[[], Store],
    accounts: Iterable[Account],
    *,
    owner: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    on_item: Callable[[ItemResult], None] | None = None,
    **overrides: Any,
) -> WorkerResult:
    """Take items of ``accounts`` from the work queue until none is pending or leased.

    Args:
        open_store: opens a store connection (called twice: the worker's and its
            heartbeat's); every worker must point at the same store.
        accounts: the accounts this worker serves (items of other accounts are left to
            workers that have them).
        owner: this worker's name in the queue (default :func:`worker_id`).
        lease_seconds: lease length; a dead worker's items wait this long at most.
        max_attempts: an item whose workers died this many times is marked failed.
        on_item: called with each item's result as soon as it is released.
        overrides: :class:`ImapSyncConfig` fields for every item (``parser_config``...).

    Raises:
        WorkerInterrupted: Ctrl-C (or SIGTERM turned into it); the item in hand was put
            back to ``pending`` and ``result`` says what was done.
        StoreError: the store cannot be written.
    """
    started = time.monotonic()
    served = {a.name: a for a in accounts}
    owner = owner or worker_id()
    result = WorkerResult(owner)
    store = open_store()
    beat = _Heartbeat(open_store, owner, lease_seconds)
    item: WorkItem | None = None
    try:
        while True:
            item = store.claim_work(
                owner, lease_seconds, accounts=served.keys(), max_attempts=max_attempts
            )
            if item is None:
                if not _wait_for_work(store, served.keys()):
                    break
                continue
            beat.hold(item)
            done = _sync_item(store, served[item.account], item, owner, beat, overrides)
            beat.drop()
            item = None
            result.items.append(done)
            if on_item is not None:
                on_item(done)
    except KeyboardInterrupt as exc:
        result.interrupted = True
        if item is not None:  # put it back at once: no need to wait for the lease
            store.release_work(item.account, item.folder, owner, "pending")
            entry = ItemResult(item.account, item.folder, "interrupted", item.attempts)
            result.items.append(entry)
        result.duration_s = time.monotonic() - started
        raise WorkerInterrupted(result) from exc
    finally:
        beat.stop()
        store.close()
    result.duration_s = time.monotonic() - started
    return result


def _wait_for_work(store: Store, accounts: Iterable[str]) -> bool:
    """Wait a little while other workers hold the remaining items; ``False`` when none is
    pending or leased (the queue is drained for these accounts)."""
    now = time.time()
    items = store.list_work(accounts=list(accounts))
    waiting = [i for i in items if i.state in ("pending", "leased")]
    if not waiting:
        return False
    expiries = [i.lease_expires for i in waiting if i.lease_expires is not None]
    soonest = min(expiries, default=now + IDLE_POLL_SECONDS) - now
    time.sleep(min(max(soonest, 0.05), IDLE_POLL_SECONDS))
    return True


def _sync_item(
    store: Store,
    account: Account,
    item: WorkItem,
    owner: str,
    beat: _Heartbeat,
    overrides: dict[str, Any],
) -> ItemResult:
    """Sync one leased folder and release it; every failure of its own is caught."""
    from ._sync import sync_imap

    entry = ItemResult(item.account, item.folder, "done", item.attempts)

    def check_lease(folder: str, done: int, total: int) -> None:
        if beat.lost:
            raise LeaseLost(f"the lease was lost after {done} of {total} messages")

    try:
        config = account.sync_config(**{**overrides, "folders": (item.folder,)})
        summary = sync_imap(store, config, progress=check_lease)
    except LeaseLost as exc:  # another worker has the item now: leave it to them
        entry.status, entry.error = "lost", str(exc)
        return entry
    except (SecretUnavailableError, ImapConfigError) as exc:
        entry.status, entry.error = "failed", str(exc)
    except (ImapAuthError, ImapConnectionError) as exc:
        entry.status = "failed"
        entry.error = Scrubber.for_config(config)(f"account {account.name!r}: {exc}")
        if exc.result is not None:
            entry.run_id = exc.result.run_id
            entry.folder_result = next(iter(exc.result.folders), None)
    else:
        entry.run_id, entry.folder_result = summary.run_id, summary.folders[0]
        if entry.folder_result.status == "error":
            entry.status, entry.error = "failed", entry.folder_result.error
    state: Literal["done", "failed"] = "failed" if entry.status == "failed" else "done"
    kept = store.release_work(
        item.account, item.folder, owner, state, error=entry.error, run_id=entry.run_id
    )
    if not kept:
        entry.status = "lost"
    return entry


def enqueue_accounts(
    store: Store, accounts: Iterable[Account], folders: Iterable[str] | None = None
) -> int:
    """Queue a sync pass of every folder of ``accounts`` (or of ``folders`` for each);
    returns how many items are pending afterwards."""
    chosen = tuple(folders) if folders is not None else None
    return store.enqueue_work(
        (a.name, folder, a.max_connections) for a in accounts for folder in chosen or a.folders
    )
