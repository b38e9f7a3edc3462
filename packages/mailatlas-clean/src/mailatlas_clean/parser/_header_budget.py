"""A bound on the header block the stdlib parser reads (issue 11: memory at most 4x a
message's size for every content type).

The stdlib parser holds a header block as a list of its lines, then a (name, value)
pair per field, and the recipients of an address field become a dict each: a message of
4 MB of header fields (200,000 ``X-`` fields, a ``Received`` chain, a ``To:`` of 100,000
addresses, a ``References`` of 200,000 ids) peaked at 10-24x its size. Mail servers
bound headers long before that (Postfix keeps 100 KB of one field), and no real message
needs more than :data:`MAX_HEADER_BYTES` of them.

So a header block above that is cut before it is parsed: the first field of each name
the document is made of (the envelope line, addresses, subject, date, ids, MIME fields)
first, each at most :data:`MAX_FIELD_BYTES` and less when together they are more (a
longer one cut at a fold, a comma or a space, so that it stays a list of whole addresses
or ids), then their repeats and the other MIME fields, then the other fields, in their
order while the budget lasts (line ends are the parser's: CRLF, CR or LF). The fields
keep their order; what is skipped is only not parsed: the raw message keeps it, and a
defect says how much.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from email import errors

__all__ = ["MAX_FIELD_BYTES", "MAX_HEADER_BYTES", "HeaderFieldsSkippedDefect", "bounded_block"]

MAX_HEADER_BYTES = 1 << 20
MAX_FIELD_BYTES = MAX_HEADER_BYTES // 4
# The fields a document is made of: the first of each of these comes first.
_FIRST = re.compile(
    rb"(From |(?:from|sender|reply-to|to|cc|bcc|subject|date|message-id|in-reply-to"
    rb"|references|mime-version|content-type|content-transfer-encoding"
    rb"|content-disposition|content-id)[ \t]*:)",
    re.IGNORECASE,
)
# ... then their repeats and the other MIME fields.
_ESSENTIAL = re.compile(rb"content-[!-9;-~]*[ \t]*:", re.IGNORECASE)
_LINE_END = re.compile(rb"\r\n|\r|\n")  # the parser's line ends


class HeaderFieldsSkippedDefect(errors.MessageDefect):
    """header fields beyond the first 1 MB of this header block were not parsed (the raw
    message keeps them)"""


def _fields(data: bytes, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """The (start, end) of each field of ``data[start:stop]``: a line and its
    continuation lines."""
    pos = start
    while pos < stop:
        found = _LINE_END.search(data, pos, stop)
        end = stop if found is None else found.end()
        while end < stop and data[end] in b" \t":
            found = _LINE_END.search(data, end, stop)
            end = stop if found is None else found.end()
        yield pos, end
        pos = end


def _tier(data: bytes, start: int, stop: int, seen: set[bytes]) -> int:
    """0 for the first field of a name the document is made of, 1 for its repeats and
    the other MIME fields, 2 for the rest."""
    first = _FIRST.match(data, start, stop)
    if first is not None:
        found = first.group(1)  # "From " (the envelope line) or a name and its colon
        name = found[:-1].strip().lower() if found.endswith(b":") else b"From "
        if name not in seen:
            seen.add(name)  # at most the 16 names of _FIRST
            return 0
        return 1
    return 1 if _ESSENTIAL.match(data, start, stop) else 2


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


def _fair_cap(sizes: list[int], room: int) -> int:
    """The largest cap, at most :data:`MAX_FIELD_BYTES`, under which fields of ``sizes``
    fit in ``room`` together (each gets its size, or the cap)."""
    if sum(min(size, MAX_FIELD_BYTES) for size in sizes) <= room:
        return MAX_FIELD_BYTES
    left = room
    ordered = sorted(sizes)
    for index, size in enumerate(ordered):
        share = left // (len(ordered) - index)
        if size > share:
            return share
        left -= size
    return MAX_FIELD_BYTES  # not reached: the sum did not fit


def bounded_block(data: bytes, start: int = 0, stop: int | None = None) -> tuple[bytes, int]:
    """The header block ``data[start:stop]`` in at most about :data:`MAX_HEADER_BYTES`,
    and how many of its bytes were left out (``0``: the block as it is).

    The first field of each name the document is made of comes first, all of them in
    the budget together (each at most :data:`MAX_FIELD_BYTES`, and less when together
    they are more: a large ``To:`` cannot crowd out the ``Subject``), then their
    repeats and the other MIME fields, then the rest, each tier in the room the ones
    before it left; the fields keep their order."""
    stop = len(data) if stop is None else stop
    if stop - start <= MAX_HEADER_BYTES:
        return data[start:stop], 0
    firsts: list[int] = []
    rest = [0, 0]  # tiers 1 and 2
    seen: set[bytes] = set()
    for begin, end in _fields(data, start, stop):
        tier = _tier(data, begin, end, seen)
        if tier == 0:
            firsts.append(end - begin)
        else:
            rest[tier - 1] += min(end - begin, MAX_FIELD_BYTES)
    cap = _fair_cap(firsts, MAX_HEADER_BYTES)
    rooms = [MAX_HEADER_BYTES, MAX_HEADER_BYTES - sum(min(size, cap) for size in firsts), 0]
    rooms[2] = max(rooms[1] - rest[0], 0)
    kept = io.BytesIO()
    seen.clear()
    for begin, end in _fields(data, start, stop):
        tier = _tier(data, begin, end, seen)
        if tier < 2:
            piece = _cut(data, begin, end, min(cap if tier == 0 else MAX_FIELD_BYTES, rooms[tier]))
        elif end - begin <= rooms[2]:
            piece = data[begin:end]
        else:
            continue
        rooms[tier] -= len(piece)
        kept.write(piece)
    out = kept.getvalue()
    return out, stop - start - len(out)
