"""Cheap looks at the header block, without a MIME parse.

``peek_message_id`` lets a sync skip messages it already stores before paying for a full
parse, so it must agree with the Message-ID that :func:`parse_bytes` records.
"""

from __future__ import annotations

import itertools
import re

from mailatlas_core import header_block, normalize_message_id
from mailatlas_core._ids import header_view

__all__ = ["FIELD_LINE", "KNOWN_FIELD", "header_block", "peek_message_id", "sniff_not_email"]

_SNIFF_BYTES = 1 << 20
_LEADING_BLANKS = re.compile(rb"[ \t\r\n]*+")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
# A header field name is printable ASCII without ':' (RFC 5322 section 2.2).
FIELD_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
KNOWN_FIELD = re.compile(
    rb"^(from|to|cc|bcc|subject|date|message-id|received|return-path|mime-version"
    rb"|content-type|content-transfer-encoding|content-disposition|reply-to|sender"
    rb"|in-reply-to|references|delivered-to|x-[!-9;-~]+)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)


def peek_message_id(raw: bytes) -> str | None:
    """The normalised Message-ID of ``raw``, read from the header block only.

    This is fast (no MIME parse) and returns the same value as the ``message_id`` of the
    document :func:`parse_bytes` would build from the same bytes.

    Args:
        raw: the raw message bytes.

    Returns:
        The normalised Message-ID, or ``None`` when the header is absent or empty.
    """
    match = _MESSAGE_ID.search(header_view(raw))  # no copy of the header block
    if match is None:
        return None
    return normalize_message_id(match.group(1))


def sniff_not_email(raw: bytes) -> str | None:
    """A plain reason why ``raw`` is not an email message, or ``None`` if it may be one.

    Deliberately lenient: a bare MIME part (``Content-Type:`` and a body) passes. What
    fails is input with no header block at all: empty files, binary blobs, Outlook
    ``.msg`` files and plain text documents.
    """
    if not raw or raw.isspace():  # raw.strip() would copy the whole message
        return "the input is empty"
    if raw.startswith(_OLE2_MAGIC):
        return (
            "this is an Outlook .msg file (OLE2 compound document), not a MIME message; "
            "save it as .eml from Outlook first"
        )
    # Its first MB (the part of a header block that is parsed: _header_budget), and two
    # known fields at most: a list of every field of a block of 8 MB was 1.5x its size.
    start = _LEADING_BLANKS.match(raw).end()  # type: ignore[union-attr]  # (matches "")
    block = header_block(raw[start : start + _SNIFF_BYTES])  # raw.lstrip() copied it all
    newline = block.find(b"\n")
    first_line = block if newline < 0 else block[:newline]
    known = sum(1 for _ in itertools.islice(KNOWN_FIELD.finditer(block), 2))
    # A damaged first line is tolerated when the block is clearly mail headers anyway.
    if not FIELD_LINE.match(first_line) and known < 2:
        return "the input does not start with an email header (expected 'Name: value')"
    if known == 0:
        return "no email header (From, To, Subject, Date, Content-Type...) was found"
    return None
