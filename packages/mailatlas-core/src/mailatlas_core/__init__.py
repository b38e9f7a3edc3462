"""mailatlas-core: the document model, the store interface and its SQLite + files backend."""

from typing import TYPE_CHECKING

from .__about__ import __version__
from ._errors import (
    DocumentNotFoundError,
    InvalidFilterError,
    MailAtlasError,
    MigrationError,
    StorageFullError,
    StoreError,
    StoreNotFoundError,
    ThreadNotFoundError,
    UnsafePathError,
)
from ._ids import (
    UTF8_BOM,
    Fingerprint,
    content_hash,
    document_id,
    fingerprint,
    normalize_message_id,
    thread_id_for,
)
from ._lazy import lazy_getattr
from ._metadata import (
    AssetPart,
    AttachedMessage,
    BodySource,
    Cleaning,
    Dates,
    DocumentMetadata,
    GmailEntry,
    Mailbox,
    MessageIdConflict,
    PartEntry,
    Provenance,
    Recipients,
    SourceMetadata,
    empty_metadata,
)
from ._model import (
    AddResult,
    Asset,
    AssetData,
    AssetKind,
    AssetText,
    AssetTextStatus,
    DeletedDocument,
    Document,
    DocumentRef,
    FlagUpdate,
    ImapCursor,
    Location,
    MatchedIn,
    ParsedDocument,
    SourceKind,
    SourceLocation,
    StoredFailure,
    StoreStats,
)

if TYPE_CHECKING:
    from ._blobs import BlobStore
    from ._dates import parse_date_filter, parse_mail_date, to_utc_iso, utc_now_iso
    from ._docstore import ASSET_SCHEME
    from ._flags import normalize_flags
    from ._gmail import GmailMessage
    from ._ids import header_block, headers_hash
    from ._open import open_store
    from ._store import ListFilter, Store
    from ._threads import Thread, ThreadMessage, ThreadNode
    from ._work import WorkItem, WorkState

# Loaded on first use: a process that only reads attachments or parses messages (the
# extractor, a parse pool worker) needs the model, not the store and its backends.
_LAZY: dict[str, str] = {
    "ASSET_SCHEME": "._docstore",
    "BlobStore": "._blobs",
    "GmailMessage": "._gmail",
    "header_block": "._ids",
    "headers_hash": "._ids",
    "normalize_flags": "._flags",
    "parse_date_filter": "._dates",
    "parse_mail_date": "._dates",
    "to_utc_iso": "._dates",
    "utc_now_iso": "._dates",
    "open_store": "._open",
    "ListFilter": "._store",
    "Store": "._store",
    "Thread": "._threads",
    "ThreadMessage": "._threads",
    "ThreadNode": "._threads",
    "WorkItem": "._work",
    "WorkState": "._work",
}

if not TYPE_CHECKING:  # for mypy the names are the imports above: a name not exported is an error
    __getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "ASSET_SCHEME",
    "UTF8_BOM",
    "AddResult",
    "Asset",
    "AssetData",
    "AssetKind",
    "AssetPart",
    "AssetText",
    "AssetTextStatus",
    "AttachedMessage",
    "BlobStore",
    "BodySource",
    "Cleaning",
    "Dates",
    "DeletedDocument",
    "Document",
    "DocumentMetadata",
    "DocumentNotFoundError",
    "DocumentRef",
    "Fingerprint",
    "FlagUpdate",
    "GmailEntry",
    "GmailMessage",
    "ImapCursor",
    "InvalidFilterError",
    "ListFilter",
    "Location",
    "MailAtlasError",
    "Mailbox",
    "MatchedIn",
    "MessageIdConflict",
    "MigrationError",
    "ParsedDocument",
    "PartEntry",
    "Provenance",
    "Recipients",
    "SourceKind",
    "SourceLocation",
    "SourceMetadata",
    "StorageFullError",
    "Store",
    "StoreError",
    "StoreNotFoundError",
    "StoreStats",
    "StoredFailure",
    "Thread",
    "ThreadMessage",
    "ThreadNode",
    "ThreadNotFoundError",
    "UnsafePathError",
    "WorkItem",
    "WorkState",
    "__version__",
    "content_hash",
    "document_id",
    "empty_metadata",
    "fingerprint",
    "header_block",
    "headers_hash",
    "normalize_flags",
    "normalize_message_id",
    "open_store",
    "parse_date_filter",
    "parse_mail_date",
    "thread_id_for",
    "to_utc_iso",
    "utc_now_iso",
]
