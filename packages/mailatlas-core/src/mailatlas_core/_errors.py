"""The MailAtlas error tree.

Every error MailAtlas raises on purpose derives from :class:`MailAtlasError`. Each
package adds its own branch in its ``errors`` module::

    MailAtlasError                      (mailatlas_core)
    ├── StoreError                      (mailatlas_core)
    │   ├── StoreNotFoundError        * no store there, or the file is not a MailAtlas store
    │   ├── DocumentNotFoundError     * no document with that id
    │   │   └── ThreadNotFoundError   * no thread (or document) with that id
    │   ├── BlobNotFoundError           a file (blob) a document refers to is missing
    │   ├── UnsafePathError             a path derived from message data left the workspace
    │   ├── DocumentTooLargeError       one message's text is over SQLite's size limit
    │   ├── StorageFullError            the disk or a file-size limit ran out mid-write
    │   └── MigrationError              the database schema is newer than this MailAtlas
    ├── InvalidFilterError            * (mailatlas_core) a list filter that cannot be read:
    │                                   a bad date, search syntax (also a ValueError)
    ├── ParseError                      (mailatlas_clean) input is not an email message
    ├── ImapError                       (mailatlas_imap)
    │   ├── ImapConfigError           * the sync configuration is unusable (also a ValueError)
    │   │   └── AccountsFileError     * mailatlas.toml is missing, unreadable or invalid
    │   ├── ImapConnectionError         host unreachable, TLS failure, dropped or stalled
    │   ├── ImapAuthError               credentials or access token refused
    │   ├── SecretUnavailableError      an account's secret source gave no secret
    │   └── FolderError                 missing folder, no permission
    ├── ExportError                     (mailatlas_cli) an export could not be written
    │   ├── ExportPathError           * the ``--out`` path cannot take this export
    │   └── BrowserNotFoundError        PDF export found no headless Chromium
    └── LoopbackOnlyError             * (mailatlas_cli) ``mcp --http`` on a reachable address

``*`` marks a usage error: the caller can fix the request (``exit_code`` 2 on the
command line); every other error is a failure (``exit_code`` 1). Each class says which
it is, so nobody has to keep a list. This tree is the one copy; docs/python-api.md
includes it, and a test keeps the two equal.

Messages are written for the person at the shell: one line, what went wrong and
what to do (``hint``, when the message alone does not say it). They never include a
password or an access token.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BlobNotFoundError",
    "DocumentNotFoundError",
    "DocumentTooLargeError",
    "InvalidFilterError",
    "MailAtlasError",
    "MigrationError",
    "StorageFullError",
    "StoreError",
    "StoreNotFoundError",
    "ThreadNotFoundError",
    "UnsafePathError",
]


class MailAtlasError(Exception):
    """Root of every error MailAtlas raises on purpose.

    ``exit_code`` says what kind of error it is: 2 for a usage error (the caller can fix
    the request: a missing store or document, a bad filter or option), 1 for a failure.
    ``hint`` is what to do, for errors whose message says only what went wrong ("" when
    the message says it all).
    """

    exit_code: ClassVar[int] = 1
    hint: str = ""


class StoreError(MailAtlasError):
    """The store (database or workspace files) could not do what was asked."""


class StoreNotFoundError(StoreError):
    """A read-only operation was pointed at a store that does not exist."""

    exit_code = 2


class DocumentNotFoundError(StoreError):
    """No document with the given id exists in the store."""

    exit_code = 2


class BlobNotFoundError(StoreError):
    """A blob (raw message, HTML, asset) the store refers to is missing."""


class ThreadNotFoundError(DocumentNotFoundError):
    """No thread, and no document, with the given id exists in the store."""


class UnsafePathError(StoreError):
    """A path built from message data would have left the workspace."""


class DocumentTooLargeError(StoreError):
    """One message is too large for the database (a text or blob over SQLite's limit,
    1 GB by default): that message is not stored, the run goes on."""


class StorageFullError(StoreError):
    """The disk (or a file-size limit) ran out while writing."""


class MigrationError(StoreError):
    """The database was written by a newer MailAtlas or its schema is damaged."""


class InvalidFilterError(MailAtlasError, ValueError):
    """A ``list`` filter that cannot be read: a date that is not one, bad search syntax.

    Also a :class:`ValueError`, as for any bad argument: a usage error.
    """

    exit_code = 2
