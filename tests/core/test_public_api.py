"""The public API of mailatlas_core is exactly what ``__all__`` says.

Issue 18 added the typed metadata (``DocumentMetadata`` and its parts) and the stored
kinds (``SourceKind``, ``AssetKind``) on purpose; its review added the two stored kinds
still typed ``str``: ``AssetTextStatus`` (``AssetText.status``) and ``MatchedIn`` (a
search hit's ``matched_in``).

Issue 18: implementation modules became private; what the sibling packages use
is exported here on purpose (the dates, ids and flags helpers, BlobStore, GmailMessage,
ASSET_SCHEME... and UTF8_BOM, the one home of that constant); the safe file I/O in
``_files`` stays a private helper they share.

Issue 15: ``fingerprint``/``Fingerprint`` too: the parser takes a message's fingerprint
in its worker process (``ParsedDocument.fingerprint``), so the storing process does not.
"""

import mailatlas_core


def test_public_api_is_pinned() -> None:
    assert sorted(mailatlas_core.__all__) == sorted(
        [
            "ASSET_SCHEME",
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
            "UTF8_BOM",
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
    )
    for name in mailatlas_core.__all__:
        assert hasattr(mailatlas_core, name)
