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

This module is the whole API. Inside, the code is laid out by what it does:
``readers/`` (mbox, Maildir, .eml files), ``parser/`` (MIME, headers, charsets, HTML,
assets, names), ``cleaning/`` (the six rules), ``attachments/`` (attachment text),
``pool/`` (the parse pool, its jobs, wire protocol and worker main) and ``ingest/``
(dedupe and store, shared with IMAP sync); ``_config`` and ``_errors`` hold what they
all share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailatlas_core._lazy import lazy_getattr

from .__about__ import __version__
from ._config import ExtractLimits, ParseLimits, ParserConfig
from ._errors import ParseError

if TYPE_CHECKING:
    from .attachments import extract_blob, extract_file, extract_text, register_reader
    from .ingest._ingest import (
        IngestFailure,
        IngestInterrupted,
        IngestProgress,
        IngestResult,
        SourceKind,
        ingest_messages,
        ingest_paths,
    )
    from .ingest._interrupts import interrupts_deferred
    from .ingest._storing import (
        MessageToStore,
        Stored,
        known_copies_among,
        known_copy,
        store_message,
        tally,
    )
    from .parser._html_bounds import bounded_html_pieces
    from .parser._parse import parse_bytes, parse_eml
    from .parser._peek import peek_message_id
    from .pool._pool import (
        ParseBatch,
        ParseFailure,
        ParseJob,
        ParsePool,
        default_workers,
        parse_many,
    )
    from .readers._maildir import iter_maildir, maildir_files
    from .readers._mbox import iter_mbox
    from .readers._paths import PathsArg, as_paths
    from .readers._raw import RawMessage
    from .readers._sources import (
        Skipped,
        SourceItem,
        Unreadable,
        eml_messages,
        iter_eml_files,
        maildir_messages,
        mbox_messages,
    )

# The parser pulls in mail-parser, nh3 and html-to-markdown; load it (and the readers)
# on first use, so that commands which only read the store start fast.
_LAZY = {
    "interrupts_deferred": ".ingest._interrupts",
    "PathsArg": ".readers._paths",
    "as_paths": ".readers._paths",
    "extract_blob": ".attachments",
    "extract_file": ".attachments",
    "extract_text": ".attachments",
    "register_reader": ".attachments",
    "bounded_html_pieces": ".parser._html_bounds",
    "IngestFailure": ".ingest._ingest",
    "IngestInterrupted": ".ingest._ingest",
    "IngestProgress": ".ingest._ingest",
    "IngestResult": ".ingest._ingest",
    "SourceKind": ".ingest._ingest",
    "ingest_messages": ".ingest._ingest",
    "ingest_paths": ".ingest._ingest",
    "Skipped": ".readers._sources",
    "SourceItem": ".readers._sources",
    "Unreadable": ".readers._sources",
    "eml_messages": ".readers._sources",
    "iter_eml_files": ".readers._sources",
    "maildir_messages": ".readers._sources",
    "mbox_messages": ".readers._sources",
    "MessageToStore": ".ingest._storing",
    "Stored": ".ingest._storing",
    "known_copies_among": ".ingest._storing",
    "known_copy": ".ingest._storing",
    "store_message": ".ingest._storing",
    "tally": ".ingest._storing",
    "iter_maildir": ".readers._maildir",
    "maildir_files": ".readers._maildir",
    "iter_mbox": ".readers._mbox",
    "peek_message_id": ".parser._peek",
    "RawMessage": ".readers._raw",
    "parse_bytes": ".parser._parse",
    "parse_eml": ".parser._parse",
    "ParseBatch": ".pool._pool",
    "ParseFailure": ".pool._pool",
    "ParseJob": ".pool._pool",
    "ParsePool": ".pool._pool",
    "default_workers": ".pool._pool",
    "parse_many": ".pool._pool",
}

if not TYPE_CHECKING:  # for mypy the names are the imports above: a name not exported is an error
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
    "PathsArg",
    "RawMessage",
    "Skipped",
    "SourceItem",
    "SourceKind",
    "Stored",
    "Unreadable",
    "__version__",
    "as_paths",
    "bounded_html_pieces",
    "default_workers",
    "eml_messages",
    "extract_blob",
    "extract_file",
    "extract_text",
    "ingest_messages",
    "ingest_paths",
    "interrupts_deferred",
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
