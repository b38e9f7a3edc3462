"""mailatlas-imap: cursor-aware, incremental IMAP sync (password and XOAUTH2).

from mailatlas_core import open_store
from mailatlas_imap import ImapSyncConfig, sync_imap

store = open_store(".mailatlas/store.db", ".mailatlas/workspace")
result = sync_imap(store, ImapSyncConfig(host="imap.example.com",
                                         username="me@example.com", password="..."))
print(result.to_dict())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailatlas_core._lazy import lazy_getattr

# First: imapclient's version without importlib.metadata (see the module).
from . import _imapclient_version  # noqa: F401
from .__about__ import __version__
from ._config import ImapSyncConfig, is_loopback_host
from ._errors import (
    AccountsFileError,
    FolderError,
    ImapAuthError,
    ImapConfigError,
    ImapConnectionError,
    ImapError,
    SecretUnavailableError,
)
from ._result import FolderResult, SyncInterrupted, SyncResult

if TYPE_CHECKING:
    from ._accounts import Account, AccountsFile, find_accounts_file, load_accounts
    from ._changes import ChangeBatch, ChangeCallback
    from ._config import ALL_FOLDERS, AuthMode, TlsMode
    from ._errors import cli_spelling
    from ._folder import ProgressCallback
    from ._folders import ImapFolder, list_imap_folders
    from ._many import (
        AccountResult,
        AccountsInterrupted,
        AccountsProgress,
        AccountsSyncResult,
        sync_accounts,
        unstarted,
    )
    from ._sync import sync_imap
    from ._watch import (
        MAX_IDLE_SECONDS,
        WatchEvent,
        WatchInterrupted,
        WatchOptions,
        WatchResult,
        watch_imap,
    )
    from ._worker import (
        DEFAULT_LEASE_SECONDS,
        DEFAULT_MAX_ATTEMPTS,
        ItemResult,
        WorkerInterrupted,
        enqueue_accounts,
        run_worker,
    )

# imapclient and the parser load with the sync machinery, on first use; the accounts
# file machinery only with --account / --all-accounts (a plain sync never reads it).
_LAZY = {
    "Account": "._accounts",
    "AccountsFile": "._accounts",
    "find_accounts_file": "._accounts",
    "load_accounts": "._accounts",
    "AccountResult": "._many",
    "AccountsInterrupted": "._many",
    "AccountsSyncResult": "._many",
    "sync_accounts": "._many",
    "ALL_FOLDERS": "._config",
    "AccountsProgress": "._many",
    "AuthMode": "._config",
    "DEFAULT_LEASE_SECONDS": "._worker",
    "DEFAULT_MAX_ATTEMPTS": "._worker",
    "ItemResult": "._worker",
    "MAX_IDLE_SECONDS": "._watch",
    "TlsMode": "._config",
    "WorkerInterrupted": "._worker",
    "cli_spelling": "._errors",
    "enqueue_accounts": "._worker",
    "run_worker": "._worker",
    "unstarted": "._many",
    "ChangeBatch": "._changes",
    "ChangeCallback": "._changes",
    "ImapFolder": "._folders",
    "ProgressCallback": "._folder",
    "list_imap_folders": "._folders",
    "sync_imap": "._sync",
    "WatchEvent": "._watch",
    "WatchInterrupted": "._watch",
    "WatchOptions": "._watch",
    "WatchResult": "._watch",
    "watch_imap": "._watch",
}

if not TYPE_CHECKING:  # for mypy the names are the imports above: a name not exported is an error
    __getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "ALL_FOLDERS",
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "MAX_IDLE_SECONDS",
    "Account",
    "AccountResult",
    "AccountsFile",
    "AccountsFileError",
    "AccountsInterrupted",
    "AccountsProgress",
    "AccountsSyncResult",
    "AuthMode",
    "ChangeBatch",
    "ChangeCallback",
    "FolderError",
    "FolderResult",
    "ImapAuthError",
    "ImapConfigError",
    "ImapConnectionError",
    "ImapError",
    "ImapFolder",
    "ImapSyncConfig",
    "ItemResult",
    "ProgressCallback",
    "SecretUnavailableError",
    "SyncInterrupted",
    "SyncResult",
    "TlsMode",
    "WatchEvent",
    "WatchInterrupted",
    "WatchOptions",
    "WatchResult",
    "WorkerInterrupted",
    "__version__",
    "cli_spelling",
    "enqueue_accounts",
    "find_accounts_file",
    "is_loopback_host",
    "list_imap_folders",
    "load_accounts",
    "run_worker",
    "sync_accounts",
    "sync_imap",
    "unstarted",
    "watch_imap",
]
