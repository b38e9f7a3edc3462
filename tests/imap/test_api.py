"""The public API of mailatlas_imap is what __init__ exports; this pins it."""

from __future__ import annotations

import mailatlas_imap
from mailatlas_core._errors import MailAtlasError


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_imap.__all__) == [
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
