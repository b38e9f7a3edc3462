"""The public API of mailatlas_imap is what __init__ exports; this pins it.

Issue 18: implementation modules became private; what mailatlas-cli uses is exported
here on purpose (AuthMode, TlsMode, ALL_FOLDERS, the worker and many-accounts entry points).
"""

from __future__ import annotations

import mailatlas_imap
from mailatlas_core._errors import MailAtlasError


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_imap.__all__) == [
        "ALL_FOLDERS",
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
        "DEFAULT_LEASE_SECONDS",
        "DEFAULT_MAX_ATTEMPTS",
        "FolderError",
        "FolderResult",
        "ImapAuthError",
        "ImapConfigError",
        "ImapConnectionError",
        "ImapError",
        "ImapFolder",
        "ImapSyncConfig",
        "ItemResult",
        "MAX_IDLE_SECONDS",
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
    for name in mailatlas_imap.__all__:
        assert hasattr(mailatlas_imap, name)


def test_errors_hang_off_the_mailatlas_root() -> None:
    m = mailatlas_imap
    assert issubclass(m.ImapError, MailAtlasError)
    for cls in (
        m.ImapConnectionError,
        m.ImapAuthError,
        m.FolderError,
        m.ImapConfigError,
    ):
        assert issubclass(cls, m.ImapError)
    assert m.ImapConnectionError("x").retryable is True
    assert m.ImapConnectionError("x", retryable=False).retryable is False
