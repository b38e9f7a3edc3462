"""mailatlas-core: the document model, the store interface and its SQLite + files backend."""

from .__about__ import __version__
from .errors import (
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
from .ids import content_hash, document_id, normalize_message_id, thread_id_for
from .model import (
    AddResult,
    Asset,
    AssetData,
    AssetText,
    DeletedDocument,
    Document,
    DocumentRef,
    FlagUpdate,
    ImapCursor,
    Location,
    ParsedDocument,
    SourceLocation,
    StoredFailure,
    StoreStats,
)
from .store import ListFilter, Store, open_store
from .threads import Thread, ThreadMessage, ThreadNode
from .work import WorkItem, WorkState

__all__ = [
    "AddResult",
    "Asset",
    "AssetData",
    "AssetText",
    "DeletedDocument",
    "Document",
    "DocumentNotFoundError",
    "DocumentRef",
    "FlagUpdate",
    "ImapCursor",
    "InvalidFilterError",
    "ListFilter",
    "Location",
    "MailAtlasError",
    "MigrationError",
    "ParsedDocument",
    "SourceLocation",
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
    "normalize_message_id",
    "open_store",
    "thread_id_for",
]
