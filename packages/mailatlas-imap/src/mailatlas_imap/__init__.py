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

from .__about__ import __version__
from .accounts import Account, AccountsFile, find_accounts_file, load_accounts
from .config import ImapSyncConfig, is_loopback_host
from .errors import (
    AccountsFileError,
    FolderError,
    ImapAuthError,
    ImapConfigError,
    ImapConnectionError,
    ImapError,
    SecretUnavailableError,
)
from .many import AccountResult, AccountsInterrupted, AccountsSyncResult, sync_accounts
from .result import FolderResult, SyncInterrupted, SyncResult

if TYPE_CHECKING:
    from ._changes import ChangeBatch, ChangeCallback
    from ._folder import ProgressCallback
    from ._folders import ImapFolder, list_imap_folders
    from .sync import sync_imap
    from .watch import WatchEvent, WatchInterrupted, WatchOptions, WatchResult, watch_imap

# imapclient and the parser load with the sync machinery, on first use.
_LAZY = {
    "ChangeBatch": "._changes",
    "ChangeCallback": "._changes",
    "ImapFolder": "._folders",
    "ProgressCallback": "._folder",
    "list_imap_folders": "._folders",
    "sync_imap": ".sync",
    "WatchEvent": ".watch",
    "WatchInterrupted": ".watch",
    "WatchOptions": ".watch",
    "WatchResult": ".watch",
    "watch_imap": ".watch",
}

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "Account",
    "AccountResult",
    "AccountsFile",
    "AccountsFileError",
    "AccountsInterrupted",
    "AccountsSyncResult",
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
    "ProgressCallback",
    "SecretUnavailableError",
    "SyncInterrupted",
    "SyncResult",
    "WatchEvent",
    "WatchInterrupted",
    "WatchOptions",
    "WatchResult",
    "__version__",
    "find_accounts_file",
    "is_loopback_host",
    "list_imap_folders",
    "load_accounts",
    "sync_accounts",
    "sync_imap",
    "watch_imap",
]
