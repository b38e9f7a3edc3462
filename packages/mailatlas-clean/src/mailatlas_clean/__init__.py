"""mailatlas-clean: parse ``.eml``, mbox and Maildir mail into clean MailAtlas documents.

Usage::

    from mailatlas_clean import ParserConfig, parse_eml

    doc = parse_eml("message.eml", ParserConfig(strip_boilerplate=True))
    for raw_message in iter_mbox("archive.mbox"):
        doc = parse_bytes(raw_message.raw, envelope=raw_message.envelope)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .__about__ import __version__
from ._maildir import iter_maildir
from ._mbox import iter_mbox
from ._peek import peek_message_id
from ._raw import RawMessage
from .config import ParserConfig
from .errors import ParseError

if TYPE_CHECKING:
    from ._parse import parse_bytes, parse_eml
    from ._pool import (
        ParseBatch,
        ParseFailure,
        ParseJob,
        ParsePool,
        default_workers,
        parse_many,
    )

# The parser pulls in mail-parser, nh3 and html-to-markdown; load it on first use so
# that commands which only read the store start fast.
_LAZY = {
    "parse_bytes": "._parse",
    "parse_eml": "._parse",
    "ParseBatch": "._pool",
    "ParseFailure": "._pool",
    "ParseJob": "._pool",
    "ParsePool": "._pool",
    "default_workers": "._pool",
    "parse_many": "._pool",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ParseBatch",
    "ParseError",
    "ParseFailure",
    "ParseJob",
    "ParsePool",
    "ParserConfig",
    "RawMessage",
    "__version__",
    "default_workers",
    "iter_maildir",
    "iter_mbox",
    "parse_bytes",
    "parse_eml",
    "parse_many",
    "peek_message_id",
]
