"""A bound on the header block the stdlib parser reads (issue 11: memory at most 4x a
message's size for every content type).

The stdlib parser holds a header block as a list of its lines, then a (name, value)
pair per field, and the recipients of an address field become a dict each: a message of
4 MB of header fields (200,000 ``X-`` fields, a ``Received`` chain, a ``To:`` of 100,000
addresses, a ``References`` of 200,000 ids) peaked at 10-24x its size. Mail servers
bound headers long before that (Postfix keeps 100 KB of one field), and no real message
needs more than :data:`MAX_HEADER_BYTES` of them.

So a header block above that is cut before it is parsed: the fields the document is
made of (the envelope line, addresses, subject, date, ids, MIME fields) first, each at
most :data:`MAX_FIELD_BYTES` (a longer one cut at a fold or a comma, so that it stays a
list of whole addresses or ids), then the other fields in their order while the budget
lasts. The fields keep their order; what is skipped is only not parsed: the raw message
keeps it, and a defect says how much.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from email import errors

__all__ = ["MAX_FIELD_BYTES", "MAX_HEADER_BYTES", "HeaderFieldsSkippedDefect", "bounded_block"]

MAX_HEADER_BYTES = 1 << 20
MAX_FIELD_BYTES = MAX_HEADER_BYTES // 4
_ESSENTIAL = re.compile(
    rb"From |(?:from|sender|reply-to|to|cc|bcc|subject|date|message-id|in-reply-to"
    rb"|references|mime-version|content-[!-9;-~]*)[ \t]*:",
    re.IGNORECASE,
)


class HeaderFieldsSkippedDefect(errors.MessageDefect):
    """header fields beyond the first 1 MB of this header block were not parsed (the raw
    message keeps them)"""


def _fields(data: bytes, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """The (start, end) of each field of ``data[start:stop]``: a line and its
    continuation lines."""
    pos = start
    while pos < stop:
        end = data.find(b"\n", pos, stop)
        end = stop if end < 0 else end + 1
        while end < stop and data[end] in b" \t":
            following = data.find(b"\n", end, stop)
            end = stop if following < 0 else following + 1
        yield pos, end
        pos = end


def _cut(data: bytes, start: int, end: int, room: int) -> bytes:
    """The field ``data[start:end]`` in at most ``room`` bytes: whole, or up to its last
    fold, comma or space that fits (a list of whole addresses or ids), or nothing."""
    if end - start <= room:
        return data[start:end]
    stop = start + room
    colon = data.find(b":", start, stop)
    if colon < 0:
        return b""
    fold = data.rfind(b"\n", colon, stop)
    if fold > colon:
        return data[start : fold + 1]
    for separator in (b",", b" "):
        cut = data.rfind(separator, colon + 2, stop)
        if cut > colon:
            return data[start:cut] + b"\n"
    return b""


def bounded_block(data: bytes, start: int = 0, stop: int | None = None) -> tuple[bytes, int]:
    """The header block ``data[start:stop]`` in at most about :data:`MAX_HEADER_BYTES`,
    and how many of its bytes were left out (``0``: the block as it is)."""
    stop = len(data) if stop is None else stop
    limit = MAX_HEADER_BYTES
    if stop - start <= limit:
        return data[start:stop], 0
    essential = sum(
        min(end - begin, MAX_FIELD_BYTES)
        for begin, end in _fields(data, start, stop)
        if _ESSENTIAL.match(data, begin, stop)
    )
    essential_room, other_room = limit, max(limit - essential, 0)
    kept = io.BytesIO()
    for begin, end in _fields(data, start, stop):
        if _ESSENTIAL.match(data, begin, stop):
            piece = _cut(data, begin, end, min(MAX_FIELD_BYTES, essential_room))
            essential_room -= len(piece)
        elif end - begin <= other_room:
            piece = data[begin:end]
            other_room -= len(piece)
        else:
            continue
        kept.write(piece)
    out = kept.getvalue()
    return out, stop - start - len(out)
