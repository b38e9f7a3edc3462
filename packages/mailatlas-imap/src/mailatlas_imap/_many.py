"""Many accounts in one run: :func:`sync_accounts` and its summary.

Each account is synced in turn with :func:`~mailatlas_imap.sync_imap`, and its failure
stays its own: an unset secret, a refused password or an unreachable server is
recorded in that account's entry and the next account goes ahead. Only what stops every
account (the store cannot be written, Ctrl-C) ends the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mailatlas_core import Store

from ._accounts import Account
from ._errors import ImapAuthError, ImapConfigError, ImapConnectionError, SecretUnavailableError
from ._result import FolderResult, Status, SyncInterrupted, SyncResult
from ._secrets import Scrubber

__all__ = ["AccountResult", "AccountsInterrupted", "AccountsSyncResult", "sync_accounts"]

# progress(account, folder, done, total)
AccountsProgress = Callable[[str, str, int, int], None]


@dataclass(slots=True)
class AccountResult:
    """One account's outcome: its sync summary, and why it failed if it did.

    ``error`` is set when the account could not be synced at all (no secret, login
    refused, server unreachable); folder-level errors stay in ``result.folders``.
    """

    account: str
    result: SyncResult
    error: str | None = None

    @property
    def status(self) -> Status:
        return "error" if self.error is not None else self.result.status

    def to_dict(self) -> dict[str, Any]:
        summary = self.result.to_dict()
        summary["status"] = self.status
        return {"account": self.account, **summary, "error": self.error}


@dataclass(slots=True)
class AccountsSyncResult:
    """The outcome of :func:`sync_accounts`: one :class:`AccountResult` per account.

    ``status``: ``ok`` when every account is ok, ``error`` when none could be synced,
    ``interrupted`` after Ctrl-C, else ``partial``.
    """

    accounts: list[AccountResult] = field(default_factory=list)
    duration_s: float = 0.0
    interrupted: bool = False

    @property
    def status(self) -> Status:
        if self.interrupted:
            return "interrupted"
        if all(a.status == "ok" for a in self.accounts):
            return "ok"
        if all(a.status == "error" for a in self.accounts):
            return "error"
        return "partial"

    @property
    def failed_accounts(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.status != "ok"]

    def _total(self, name: str) -> int:
        return sum(int(getattr(a.result, name)) for a in self.accounts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``mailatlas sync imap --all-accounts`` prints."""
        return {
            "status": self.status,
            "account_count": len(self.accounts),
            "error_count": sum(1 for a in self.accounts if a.status == "error"),
            "fetched_count": self._total("fetched_count"),
            "ingested_count": self._total("ingested_count"),
            "duplicate_count": self._total("duplicate_count"),
            "failed_count": self._total("failed_count"),
            "accounts": [a.to_dict() for a in self.accounts],
            "duration_s": round(self.duration_s, 3),
        }


class AccountsInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`sync_accounts`; ``result`` holds what was committed."""

    def __init__(self, result: AccountsSyncResult) -> None:
        super().__init__(f"interrupted: {result._total('ingested_count')} stored")
        self.result = result


def unstarted(account: Account, error: str, folders: Iterable[str] | None = None) -> SyncResult:
    """The summary of an account that could not start: every folder in error (or, with
    no ``error``, every folder untouched)."""
    entries = [
        FolderResult(folder, status="error" if error else "ok", error=error or None)
        for folder in (folders if folders is not None else account.folders)
    ]
    return SyncResult(host=account.host, port=account.port, auth=account.auth, folders=entries)


def sync_one_account(
    store: Store,
    account: Account,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    **overrides: Any,
) -> AccountResult:
    """Sync one account; every failure of its own is caught into its entry.

    Raises only what would stop any account: :class:`SyncInterrupted` (Ctrl-C) and
    store errors.
    """
    from ._sync import sync_imap

    folders = overrides.get("folders")
    try:
        config = account.sync_config(**overrides)
    except (SecretUnavailableError, ImapConfigError) as exc:
        return AccountResult(account.name, unstarted(account, str(exc), folders), str(exc))
    scrub = Scrubber.for_config(config)
    try:
        result = sync_imap(store, config, progress=progress)
    except (ImapAuthError, ImapConnectionError) as exc:
        message = scrub(f"account {account.name!r}: {exc}")
        return AccountResult(
            account.name, exc.result or unstarted(account, message, config.folders), message
        )
    return AccountResult(account.name, result)


def sync_accounts(
    store: Store,
    accounts: Iterable[Account],
    *,
    progress: AccountsProgress | None = None,
    **overrides: Any,
) -> AccountsSyncResult:
    """Sync each account in turn into ``store``; one account's failure never stops another.

    Args:
        store: where every account's documents, failures and cursors go.
        accounts: from :func:`~mailatlas_imap._accounts.load_accounts`.
        progress: called as ``progress(account, folder, done, total)`` after each batch.
        overrides: :class:`ImapSyncConfig` fields for every account (``folders``,
            ``timeout``, ``max_retries``, ``parser_config``...).

    Raises:
        AccountsInterrupted: Ctrl-C; its ``result`` says what was committed.
        StoreError: the store cannot be written (every account would fail alike).
    """
    started = time.monotonic()
    summary = AccountsSyncResult()
    for account in accounts:

        def folder_progress(folder: str, done: int, total: int, name: str = account.name) -> None:
            if progress is not None:
                progress(name, folder, done, total)

        try:
            entry = sync_one_account(store, account, progress=folder_progress, **overrides)
        except KeyboardInterrupt as exc:  # a SyncInterrupted knows what was committed
            done = exc.result if isinstance(exc, SyncInterrupted) else unstarted(account, "")
            done.interrupted = True
            summary.accounts.append(AccountResult(account.name, done))
            summary.interrupted = True
            summary.duration_s = time.monotonic() - started
            raise AccountsInterrupted(summary) from exc
        summary.accounts.append(entry)
    summary.duration_s = time.monotonic() - started
    return summary
