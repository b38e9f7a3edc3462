import mailatlas_core


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_core.__all__) == sorted(
        [
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
