"""mailatlas-clean: parse ``.eml``, mbox and Maildir mail into clean MailAtlas documents.

Usage::

    from mailatlas_clean import ParserConfig, parse_eml

    doc = parse_eml("message.eml", ParserConfig(strip_boilerplate=True))
    for raw_message in iter_mbox("archive.mbox"):
        doc = parse_bytes(raw_message.raw, envelope=raw_message.envelope)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailatlas_core._lazy import lazy_getattr

from .__about__ import __version__
from .config import ExtractLimits, ParseLimits, ParserConfig
from .errors import ParseError

if TYPE_CHECKING:
    from ._attachments import extract_file, extract_text
    from ._html_bounds import bounded_html_pieces
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

# The parser pulls in mail-parser, nh3 and html-to-markdown; load it (and the readers)
# on first use, so that commands which only read the store start fast.
_LAZY = {
    "extract_file": "._attachments",
    "extract_text": "._attachments",
    "bounded_html_pieces": "._html_bounds",
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
    "ParseBatch",
    "ParseError",
    "ParseFailure",
    "ParseJob",
    "ParseLimits",
    "ParsePool",
    "ParserConfig",
    "RawMessage",
    "__version__",
    "bounded_html_pieces",
    "default_workers",
    "extract_file",
    "extract_text",
    "iter_maildir",
    "iter_mbox",
    "maildir_files",
    "parse_bytes",
    "parse_eml",
    "parse_many",
    "peek_message_id",
]
