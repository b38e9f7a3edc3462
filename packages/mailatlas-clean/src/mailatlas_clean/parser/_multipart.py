"""A message's part tree read by offset: only header blocks go through the stdlib parser.

The stdlib parser reads every line of a message into a ``str`` of its own and joins a
leaf's lines into its payload; a multipart's or an attached message's leaves cost that
as much as a single-part body does (:mod:`._rawbody`). Here the tree is built the way
``email.feedparser`` builds it, but each part's extent is found by scanning the raw
bytes for its boundary lines, each part's header block is parsed by the stdlib's own
header parser (``BytesParser(...).parsebytes(block, headersonly=True)``, a public API),
and each leaf keeps its body as a slice of the raw bytes (a
:class:`~._rawbody.RawBodyMessage`, decoded to the parser's very ``str`` only if
something asks for it).

The rules are ``FeedParser._parsegen``'s, on bytes:

* lines end at ``\\r\\n``, ``\\r`` or ``\\n``; a part's lines stop at the first line
  that matches an enclosing boundary (its whole extent is scanned for its own only);
* a header block ends at the first line that is neither a header nor a continuation:
  a blank line is dropped, any other line starts the body and the part gets a
  ``MissingHeaderBodySeparatorDefect`` (noted before the header parse's own defects);
* a boundary line is ``--boundary``, optionally ``--``, blanks, a line end (Python
  3.13's ``boundaryendRE``); the preamble loses its last line end, consecutive
  boundary lines open no empty part, the newline before a boundary belongs to it (the
  last line end of a part's payload, or of a nested multipart's epilogue, is dropped);
  the epilogue is what follows the close boundary's line;
* ``multipart/digest`` children default to ``message/rfc822``; a ``message/*`` part's
  body is a message read the same way;
* a multipart with a transfer encoding other than 7bit/8bit/binary gets an
  ``InvalidMultipartContentTransferEncodingDefect``; one whose close boundary is
  missing a ``CloseBoundaryNotFoundDefect``.

Anything else odd makes :func:`read_tree` return ``None`` and the caller parse the
message with the stdlib parser: no boundary, a boundary that is not plain ASCII or
holds a line end, no start boundary, ``message/delivery-status``, nesting deeper than
:data:`MAX_DEPTH`, or any error while reading (the stdlib then raises it, or not, as
it always did).
"""

from __future__ import annotations

import re
from email import errors
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from .._errors import ParseError
from ._header_budget import HeaderFieldsSkippedDefect, bounded_block
from ._part_budget import PartBudget
from ._rawbody import HEADER_LINE, RawBodyMessage, Span

__all__ = ["MAX_DEPTH", "SPAN_LEAST", "header_block_end", "read_tree"]

MAX_DEPTH = 200
# With ``by_offset``, a leaf body at least this large is held as a span of the input;
# a smaller one as a slice of its own (a small copy costs little, and a message of many
# small parts peaked higher with a span object per part).
SPAN_LEAST = 1 << 16
_LINE_END = re.compile(rb"\r\n|\r|\n")
# email.feedparser's boundary tail (3.13's boundaryendRE) on bytes, from just after the
# separator: blanks taken possessively (the separator never ends in one).
_BOUNDARY_END = re.compile(rb"(--)?[ \t]*+(\r\n|\r|\n)?")
_HEADERS = BytesParser(RawBodyMessage, policy=compat32)


class _Unsure(Exception):
    """This message is left to the stdlib parser."""


def read_tree(
    data: bytes, *, by_offset: bool = False, budget: PartBudget | None = None
) -> RawBodyMessage | None:
    """The stdlib parser's tree of ``data`` with leaf bodies held as raw bytes, or
    ``None`` when the message is one the stdlib parser must read itself.

    ``by_offset``: large leaves hold their bodies as spans of ``data`` (no copy), for
    a ``data`` kept anyway (the raw message itself); else each its own slice, so that a
    ``data`` made for the parse alone is let go once the tree is built.

    ``budget``: the parts it may make (:mod:`._part_budget`; by default, what ``data``'s
    size allows); past it, the budget's :class:`ParseError` is raised, not left to the stdlib.
    """
    budget = PartBudget(len(data)) if budget is None else budget
    try:
        message, _last = _message(
            data, 0, len(data), 0, default=None, strip=False, by_offset=by_offset, budget=budget
        )
    except ParseError:  # too many parts (_part_budget): refused, not read again
        raise
    except Exception:  # _Unsure, or any error while reading: the stdlib parser reads it
        return None
    return message


def header_block_end(data: bytes, start: int, stop: int) -> int:
    """Where the header block of the part in ``data[start:stop]`` ends (as the parser
    reads it: at the first line that is neither a field nor a continuation)."""
    return _header_block(data, start, stop)[0]


def _eol_len(data: bytes, pos: int) -> int:
    return 2 if data.startswith(b"\r\n", pos) else 1


def _header_block(data: bytes, start: int, stop: int) -> tuple[int, int, bool]:
    """Where the header block of the part in ``data[start:stop]`` ends, where its body
    starts, and whether a line that is neither a header nor blank ended it."""
    pos = start
    while pos < stop:
        if HEADER_LINE.match(data, pos, stop) is None:
            if data[pos] in b"\r\n":  # the blank separator line: dropped
                return pos, pos + _eol_len(data, pos), False
            return pos, pos, True
        found = _LINE_END.search(data, pos, stop)
        if found is None:
            break
        pos = found.end()
    return stop, stop, False


class _Line:
    __slots__ = ("close", "end", "start")

    def __init__(self, start: int, end: int, close: bool) -> None:
        self.start, self.end, self.close = start, end, close


def _boundary_at(data: bytes, pos: int, stop: int, sep: bytes) -> _Line | None:
    """The boundary line starting at ``pos`` (a line start), if that line is one."""
    if not data.startswith(sep, pos, stop):
        return None
    tail = _BOUNDARY_END.match(data, pos + len(sep), stop)
    if tail is None:
        return None
    if tail.group(2) is None and tail.end() != stop:
        return None  # more on the line: not a boundary
    return _Line(pos, tail.end(), tail.group(1) is not None)


def _next_boundary(data: bytes, pos: int, stop: int, sep: bytes) -> _Line | None:
    """The first boundary line at or after the line start ``pos``."""
    while True:
        found = data.find(sep, pos, stop)
        if found == -1:
            return None
        if found == 0 or data[found - 1] in b"\r\n":
            line = _boundary_at(data, found, stop, sep)
            if line is not None:
                return line
        pos = found + 1


def _trimmed(data: bytes, start: int, stop: int) -> int:
    """``stop`` less the one line end ``data[start:stop]`` ends with, if any."""
    if stop - start >= 2 and data.startswith(b"\r\n", stop - 2):
        return stop - 2
    if stop > start and data[stop - 1] in b"\r\n":
        return stop - 1
    return stop


def _text(data: bytes, start: int, stop: int) -> str:
    return data[start:stop].decode("ascii", "surrogateescape")


def _message(
    data: bytes,
    start: int,
    stop: int,
    depth: int,
    *,
    default: str | None,
    strip: bool,
    by_offset: bool,
    budget: PartBudget,
) -> tuple[RawBodyMessage, RawBodyMessage]:
    """The part in ``data[start:stop]`` and the part whose final line end belongs to
    the boundary after it (``strip``: drop it, as the parser does in a multipart)."""
    if depth > MAX_DEPTH:
        raise _Unsure
    budget.take()
    head_end, body, missing = _header_block(data, start, stop)
    block, skipped = bounded_block(data, start, head_end)  # see _header_budget
    message = _HEADERS.parsebytes(block, headersonly=True)
    del block
    if not isinstance(message, RawBodyMessage):
        raise _Unsure
    if missing:
        message.defects.insert(0, errors.MissingHeaderBodySeparatorDefect())
    if skipped:
        message.defects.append(HeaderFieldsSkippedDefect())
    if default is not None:
        message.set_default_type(default)
    ctype = message.get_content_type()
    if ctype == "message/delivery-status":
        raise _Unsure
    maintype = message.get_content_maintype()
    if maintype == "message":
        inner, last = _message(
            data,
            body,
            stop,
            depth + 1,
            default=None,
            strip=strip,
            by_offset=by_offset,
            budget=budget,
        )
        message.set_payload([inner])
        return message, last
    if maintype == "multipart":
        _multipart(
            message, data, body, stop, depth, strip=strip, by_offset=by_offset, budget=budget
        )
        return message, message
    end = _trimmed(data, body, stop) if strip else stop
    if by_offset and end - body >= SPAN_LEAST:
        message.attach_body(Span(data, body, end))
    else:
        message.attach_body(data[body:end])
    return message, message


def _separator(message: Message) -> bytes:
    boundary = message.get_boundary()
    if not boundary:
        raise _Unsure  # no boundary (the parser keeps the body as text): its reading
    try:
        sep = ("--" + boundary).encode("ascii")
    except UnicodeError:
        raise _Unsure from None
    if b"\r" in sep or b"\n" in sep or sep.endswith((b" ", b"\t")):
        raise _Unsure
    return sep


def _multipart(
    message: RawBodyMessage,
    data: bytes,
    body: int,
    stop: int,
    depth: int,
    *,
    strip: bool,
    by_offset: bool,
    budget: PartBudget,
) -> None:
    sep = _separator(message)
    cte = str(message.get("content-transfer-encoding", "8bit")).lower()
    if cte not in ("7bit", "8bit", "binary"):
        defect = errors.InvalidMultipartContentTransferEncodingDefect()
        message.policy.handle_defect(message, defect)
    line = _next_boundary(data, body, stop, sep)
    if line is None or line.close:
        raise _Unsure  # no start boundary: the parser keeps the body as text
    if line.start > body:
        message.preamble = _text(data, body, _trimmed(data, body, line.start))
    default = "message/rfc822" if message.get_content_type() == "multipart/digest" else None
    parts: list[Message | str] = []
    while True:
        # Consecutive boundary lines (of either form) open no part between them.
        start = line.end
        while start < stop:
            again = _boundary_at(data, start, stop, sep)
            if again is None:
                break
            start = again.end
        following = _next_boundary(data, start, stop, sep)
        end = following.start if following is not None else stop
        part, _last = _message(
            data,
            start,
            end,
            depth + 1,
            default=default,
            strip=True,
            by_offset=by_offset,
            budget=budget,
        )
        parts.append(part)
        if following is None:
            message.set_payload(parts)
            message.policy.handle_defect(message, errors.CloseBoundaryNotFoundDefect())
            return
        line = following
        if line.close:
            break
    message.set_payload(parts)
    if not strip:
        message.epilogue = _text(data, line.end, stop)
    elif line.end < stop:  # a nested multipart's epilogue: its last line end is the boundary's
        message.epilogue = _text(data, line.end, _trimmed(data, line.end, stop))
    # else: an empty epilogue of a nested multipart is None
