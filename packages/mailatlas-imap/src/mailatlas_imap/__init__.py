"""mailatlas-imap: cursor-aware, incremental IMAP sync (password and XOAUTH2).

from mailatlas_core import open_store
from mailatlas_imap import ImapSyncConfig, sync_imap

store = open_store(".mailatlas/store.db", ".mailatlas/workspace")
result = sync_imap(store, ImapSyncConfig(host="imap.example.com",
                                         username="me@example.com", password="..."))
print(result.to_dict())
"""

from .__about__ import __version__
from ._folder import ProgressCallback
from .config import ImapSyncConfig, is_loopback_host
from .errors import (
    CursorInvalidated,
    FolderError,
    ImapAuthError,
    ImapConfigError,
    ImapConnectionError,
    ImapError,
)
from .result import FolderResult, SyncResult
from .sync import sync_imap

__all__ = [
    "CursorInvalidated",
    "FolderError",
    "FolderResult",
    "ImapAuthError",
    "ImapConfigError",
    "ImapConnectionError",
    "ImapError",
    "ImapSyncConfig",
    "ProgressCallback",
    "SyncResult",
    "__version__",
    "is_loopback_host",
    "sync_imap",
]
