"""mailatlas-clean: parse ``.eml``, mbox and Maildir mail into clean MailAtlas documents,
and store them: the message-to-store pipeline that file ingest and IMAP sync share.

Usage::

    from mailatlas_clean import ParserConfig, ingest_paths, parse_eml
    from mailatlas_core import open_store

    doc = parse_eml("message.eml", ParserConfig(strip_boilerplate=True))
    for raw_message in iter_mbox("archive.mbox"):
        doc = parse_bytes(raw_message.raw, envelope=raw_message.envelope)

    store = open_store(".mailatlas/store.db", ".mailatlas/workspace")
    result = ingest_paths(store, "mbox", "archive.mbox")  # or "eml", "maildir"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailatlas_core._lazy import lazy_getattr

from .__about__ import __version__
from .config import ExtractLimits, ParseLimits, ParserConfig
from .errors import ParseError

if TYPE_CHECKING:
    from ._attachments import extract_file, extract_text, register_reader
    from ._html_bounds import bounded_html_pieces
    from ._ingest import (
        IngestFailure,
        IngestInterrupted,
        IngestProgress,
        IngestResult,
        SourceKind,
        ingest_messages,
        ingest_paths,
    )
    from ._maildir import iter_maildir, maildir_files
    from ._mbox import iter_mbox
    from ._parse import parse_bytes, parse_eml
    from ._peek import peek_message_id
    from ._pool import (
        ParseBatch,
        ParseFailure,
        ParseJob,
        ParsePool,
        default_workers,
        parse_many,
    )
    from ._raw import RawMessage
    from ._sources import (
        Skipped,
        SourceItem,
        Unreadable,
        eml_messages,
        iter_eml_files,
        maildir_messages,
        mbox_messages,
    )
    from ._storing import (
        MessageToStore,
        Stored,
        known_copies_among,
        known_copy,
        store_message,
        tally,
    )

# The parser pulls in mail-parser, nh3 and html-to-markdown; load it (and the readers)
# on first use, so that commands which only read the store start fast.
_LAZY = {
    "extract_file": "._attachments",
    "extract_text": "._attachments",
    "register_reader": "._attachments",
    "bounded_html_pieces": "._html_bounds",
    "IngestFailure": "._ingest",
    "IngestInterrupted": "._ingest",
    "IngestProgress": "._ingest",
    "IngestResult": "._ingest",
    "SourceKind": "._ingest",
    "ingest_messages": "._ingest",
    "ingest_paths": "._ingest",
    "Skipped": "._sources",
    "SourceItem": "._sources",
    "Unreadable": "._sources",
    "eml_messages": "._sources",
    "iter_eml_files": "._sources",
    "maildir_messages": "._sources",
    "mbox_messages": "._sources",
    "MessageToStore": "._storing",
    "Stored": "._storing",
    "known_copies_among": "._storing",
    "known_copy": "._storing",
    "store_message": "._storing",
    "tally": "._storing",
    "iter_maildir": "._maildir",
    "maildir_files": "._maildir",
    "iter_mbox": "._mbox",
    "peek_message_id": "._peek",
    "RawMessage": "._raw",
    "parse_bytes": "._parse",
    "parse_eml": "._parse",
    "ParseBatch": "._pool",
    "ParseFailure": "._pool",
    "ParseJob": "._pool",
    "ParsePool": "._pool",
    "default_workers": "._pool",
    "parse_many": "._pool",
}

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "ExtractLimits",
    "IngestFailure",
    "IngestInterrupted",
    "IngestProgress",
    "IngestResult",
    "MessageToStore",
    "ParseBatch",
    "ParseError",
    "ParseFailure",
    "ParseJob",
    "ParseLimits",
    "ParsePool",
    "ParserConfig",
    "RawMessage",
    "Skipped",
    "SourceItem",
    "SourceKind",
    "Stored",
    "Unreadable",
    "__version__",
    "bounded_html_pieces",
    "default_workers",
    "eml_messages",
    "extract_file",
    "extract_text",
    "ingest_messages",
    "ingest_paths",
    "iter_eml_files",
    "iter_maildir",
    "iter_mbox",
    "known_copies_among",
    "known_copy",
    "maildir_files",
    "maildir_messages",
    "mbox_messages",
    "parse_bytes",
    "parse_eml",
    "parse_many",
    "peek_message_id",
    "register_reader",
    "store_message",
    "tally",
]
