"""Errors raised by mailatlas-imap.

Every third-party failure (imapclient's ``LoginError``, ``imaplib.IMAP4.abort``,
``ssl.SSLError``, ``socket.timeout``...) is wrapped into this branch of the MailAtlas
error tree at the package edge::

    MailAtlasError                      (mailatlas_core)
    └── ImapError                       any IMAP sync failure
        ├── ImapConfigError             the ImapSyncConfig is unusable (also a ValueError)
        ├── ImapConnectionError         host unreachable, TLS failure, dropped or stalled
        ├── ImapAuthError               credentials or access token refused
        └── FolderError                 missing folder, no permission

Messages are one line for the person at the shell. They quote the server's text as text
(never a bytes repr) and never contain a password or an access token.
"""

from __future__ import annotations

from mailatlas_core.errors import MailAtlasError

__all__ = [
    "FolderError",
    "ImapAuthError",
    "ImapConfigError",
    "ImapConnectionError",
    "ImapError",
]


class ImapError(MailAtlasError):
    """An IMAP sync failed."""


class ImapConfigError(ImapError, ValueError):
    """The sync configuration is invalid (a usage error: fix the options and rerun)."""


class ImapConnectionError(ImapError):
    """The server could not be reached, TLS failed, or the connection dropped or stalled.

    ``retryable`` is false for failures that a reconnect cannot fix (an untrusted
    certificate, a server without STARTTLS).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ImapAuthError(ImapError):
    """The server refused the password or the access token."""


class FolderError(ImapError):
    """A folder could not be opened (it does not exist, or access is denied)."""
