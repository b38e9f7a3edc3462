"""The public API of mailatlas_core is exactly what ``__all__`` says.

Issue 18 added the typed metadata (``DocumentMetadata`` and its parts) and the stored
kinds (``SourceKind``, ``AssetKind``) on purpose.
"""

import mailatlas_core


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_core.__all__) == sorted(
        [
            "AddResult",
            "AssetPart",
            "AttachedMessage",
            "BodySource",
            "Cleaning",
            "Dates",
            "DocumentMetadata",
            "GmailEntry",
            "Mailbox",
            "MessageIdConflict",
            "PartEntry",
            "Provenance",
            "Recipients",
            "SourceMetadata",
            "empty_metadata",
            "Asset",
            "AssetData",
            "AssetKind",
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
            "SourceKind",
            "SourceLocation",
            "StorageFullError",
            "Store",
            "StoreStats",
            "StoredFailure",
            "StoreError",
            "StoreNotFoundError",
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
    )
    for name in mailatlas_core.__all__:
        assert hasattr(mailatlas_core, name)
