"""mailatlas-clean: parse ``.eml``, mbox and Maildir mail into clean MailAtlas documents.

Usage::

    from mailatlas_clean import ParserConfig, parse_eml

    doc = parse_eml("message.eml", ParserConfig(strip_boilerplate=True))
    for raw_message in iter_mbox("archive.mbox"):
        doc = parse_bytes(raw_message.raw, envelope=raw_message.envelope)
"""

from .__about__ import __version__
from ._maildir import iter_maildir
from ._mbox import iter_mbox
from ._parse import parse_bytes, parse_eml
from ._peek import peek_message_id
from ._pool import ParseBatch, ParseFailure, ParseJob, ParsePool, default_workers, parse_many
from ._raw import RawMessage
from .config import ParserConfig
from .errors import ParseError

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
