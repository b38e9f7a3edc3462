"""The MailAtlas error tree.

Every error MailAtlas raises on purpose derives from :class:`MailAtlasError`. Each
package adds its own branch in its ``errors`` module::

    MailAtlasError                      (mailatlas_core)
    ├── StoreError                      (mailatlas_core)
    │   ├── StoreNotFoundError          no store there, or the file is not a MailAtlas store
    │   ├── DocumentNotFoundError       no document with that id
    │   │   └── ThreadNotFoundError     no thread (or document) with that id
    │   ├── BlobNotFoundError           a file (blob) a document refers to is missing
    │   ├── UnsafePathError             a path derived from message data left the workspace
    │   ├── DocumentTooLargeError       one message's text is over SQLite's size limit
    │   ├── StorageFullError            the disk or a file-size limit ran out mid-write
    │   └── MigrationError              the database schema is newer than this MailAtlas
    ├── InvalidFilterError              (mailatlas_core) a list filter that cannot be read:
    │                                   a bad date, search syntax (also a ValueError)
    ├── ParseError                      (mailatlas_clean) input is not an email message
    ├── ImapError                       (mailatlas_imap)
    │   ├── ImapConnectionError         host unreachable, TLS failure, dropped connection
    │   ├── ImapAuthError               credentials or token refused
    │   ├── ImapConfigError             a configuration the sync refuses (exit 2)
    │   └── FolderError                 missing folder, no permission
    └── ExportError                     (mailatlas_cli) export failed (no browser, bad path)

Messages are written for the person at the shell: one line, what went wrong and
what to do. They never include a password or an access token.
"""

from __future__ import annotations

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
    """Root of every error MailAtlas raises on purpose."""


class StoreError(MailAtlasError):
    """The store (database or workspace files) could not do what was asked."""


class StoreNotFoundError(StoreError):
    """A read-only operation was pointed at a store that does not exist."""


class DocumentNotFoundError(StoreError):
    """No document with the given id exists in the store."""


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

    Also a :class:`ValueError`, as for any bad argument; the CLI makes it a usage error.
    """
