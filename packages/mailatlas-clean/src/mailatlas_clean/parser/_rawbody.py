"""A single-part message's body read from the raw bytes, not through the stdlib parser.

The stdlib parser turns a body into one ``str`` line by line: every line an object of
its own, then all of them joined (about 2.7 times the body's size at once, and twice
that for 8-bit bytes, held as surrogates). For a message that is a single leaf (not
``multipart/*``, not ``message/*``) that body is simply the rest of the input after the
blank line that ends the header block: the parser reads nothing in it. So only the
header block is fed to the parser, and the message keeps the body's bytes;
:func:`take_body` hands them to the MIME walk, which decodes them directly.

Whatever else asks for the payload (``get_payload``, the generator, which reads
``_payload``) gets the very ``str`` the parser would have built (the body decoded as
ASCII with ``surrogateescape``, as ``BytesFeedParser`` decodes its input), made on
first use.

:func:`flatten_leaf` is ``as_bytes()`` of such a leaf (an attached message is stored
whole, flattened back from the tree) without the generator's copy of every line.
"""

from __future__ import annotations

import email.feedparser as _stdlib
import inspect
import re
import sys
from email.message import Message
from email.policy import compat32
from typing import Any, TypeVar

__all__ = [
    "RawBodyMessage",
    "attach_leaf_bodies",
    "body_start",
    "flatten_leaf",
    "leaf_parser",
    "take_body",
]

# email.feedparser's headerRE and NLCRE, on bytes: a header line, a header block's end.
# The field name is taken possessively and only from the start of a run of name
# characters, so that a search (not only a match at a line start) is linear too; ':' is
# not a name character, so neither changes what a match at a line start finds.
_HEADER_LINE = re.compile(rb"From |(?<![\041-\071\073-\176])[\041-\071\073-\176]*+:|[\t ]")
_LINE_END = re.compile(rb"\r\n|\r|\n")


def body_start(data: bytes) -> int | None:
    """The offset where the stdlib parser starts the body of ``data``: just after the
    blank line that ends the header block. ``None`` when a line that is neither a
    header nor blank ends it (the parser notes a defect there) or there is no body."""
    pos, size = 0, len(data)
    while pos < size:
        found = _LINE_END.search(data, pos)
        if found is None:
            return None  # the last line is a header: no body
        if _HEADER_LINE.match(data, pos) is None:
            return found.end() if found.start() == pos else None
        pos = found.end()
    return None


class RawBodyMessage(Message):
    """A :class:`~email.message.Message` whose payload is the raw body, decoded only
    when something asks for it (see the module docstring)."""

    def attach_body(self, body: bytes) -> None:
        self.__dict__["_raw_body"] = body
        self.__dict__["_text_payload"] = None

    def is_multipart(self) -> bool:
        if self.__dict__.get("_raw_body") is not None:
            return False  # a body held as bytes is a leaf's (and reading _payload decodes it)
        return super().is_multipart()

    @property
    def _payload(self) -> Any:
        body = self.__dict__.get("_raw_body")
        if body is not None:
            self.__dict__["_text_payload"] = body.decode("ascii", "surrogateescape")
            self.__dict__["_raw_body"] = None
        return self.__dict__.get("_text_payload")

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self.__dict__["_raw_body"] = None
        self.__dict__["_text_payload"] = value


def take_body(part: Message) -> bytes | None:
    """The raw body bytes of ``part`` if it still holds them undecoded (then its
    payload becomes ``""``: the caller has the body), else ``None``."""
    if not isinstance(part, RawBodyMessage):
        return None
    body: bytes | None = part.__dict__.get("_raw_body")
    if body is not None:
        part.__dict__["_raw_body"] = None
        part.__dict__["_text_payload"] = ""
    return body


_CR_LINE_END = re.compile(rb"\r\n?")


def flatten_leaf(message: Message, least: int) -> bytes | None:
    """``message.as_bytes()`` for a leaf (not ``multipart/*``, not ``message/*``) whose
    body is at least ``least`` bytes, else ``None``.

    The generator writes such a body line by line (every line a ``str`` of its own, then
    each encoded: about three times the body at once). What it writes is the header
    block (as for an empty body), then the body with every line end made ``\n``
    (compat32's line separator; ``_write_lines`` splits on ``\r\n``, ``\r`` and
    ``\n``), encoded back with ``surrogateescape``: that is made here directly.
    """
    if (
        message.policy is not compat32
        or message.is_multipart()
        or message.get_content_maintype() in ("multipart", "message")
    ):
        return None
    raw: bytes | None = message.__dict__.get("_raw_body")
    if isinstance(message, RawBodyMessage) and raw is not None:
        if len(raw) < least:
            return None
        message.__dict__["_raw_body"], message.__dict__["_text_payload"] = None, ""
        try:
            head = message.as_bytes()
        finally:
            message.attach_body(raw)
        body = raw
    else:
        held = "_text_payload" if isinstance(message, RawBodyMessage) else "_payload"
        payload = message.__dict__.get(held)
        if not isinstance(payload, str) or len(payload) < least:
            return None
        message.set_payload("")
        try:
            head = message.as_bytes()
        finally:
            message.set_payload(payload)
        body = payload.encode("ascii", "surrogateescape")
        del payload
    if b"\r" in body:
        body = _CR_LINE_END.sub(b"\n", body)
    return head + body


def _leaf_loop_line() -> int | None:
    """The line of ``FeedParser._parsegen``'s last loop, the one that collects a leaf's
    body (``for line in self._input: ... lines.append(line)``, then ``set_payload``),
    or ``None`` if this Python's parser is not written that way."""
    try:
        lines, first = inspect.getsourcelines(_stdlib.FeedParser._parsegen)  # type: ignore[attr-defined]
    except (OSError, TypeError):
        return None
    loops = [i for i, line in enumerate(lines) if line.strip() == "for line in self._input:"]
    if not loops:
        return None
    rest = [line.strip() for line in lines[loops[-1] + 1 :] if line.strip()]
    expected = ["if line is NeedMoreData:", "yield NeedMoreData", "continue", "lines.append(line)"]
    if rest != [*expected, "self._cur.set_payload(EMPTYSTRING.join(lines))"]:
        return None
    return first + loops[-1]


_LEAF_LOOP = _leaf_loop_line()
_NEED_MORE: Any = _stdlib.NeedMoreData  # type: ignore[attr-defined]
_BUFFER: Any = _stdlib.BufferedSubFile  # type: ignore[attr-defined]
_P = TypeVar("_P", bound="_stdlib.BytesFeedParser[Any]")
_LINE_ENDS = ("\r\n", "\r", "\n")


class _Span:
    __slots__ = ("end", "eol", "lines", "message", "start")

    def __init__(self, message: RawBodyMessage, start: int) -> None:
        self.message, self.start, self.end, self.lines, self.eol = message, start, start, 0, 0


class _LeafLines(_BUFFER):  # type: ignore[misc]
    """The parser's line buffer, counting offsets: the loop that collects a leaf's body
    gets a one-character stand-in for each line (its line end, or ``x`` for a last line
    without one), and the span of the real lines is recorded for that leaf."""

    def __init__(self, parser: Any) -> None:
        super().__init__()
        self.parser: Any = parser
        self.offset = 0  # of the next line to read, in the parser's input
        self.spans: dict[int, _Span] = {}
        self.broken = False

    def readline(self) -> Any:
        line = super().readline()
        if line and line is not _NEED_MORE:
            self.offset += len(line)
        return line

    def unreadline(self, line: str) -> None:
        super().unreadline(line)
        self.offset -= len(line)

    def __next__(self) -> Any:
        line = super().__next__()
        frame = sys._getframe(1)
        if line is _NEED_MORE or frame.f_lineno != _LEAF_LOOP or frame.f_code is not _PARSEGEN_CODE:
            return line
        message = self.parser._cur
        span = self.spans.get(id(message))
        if span is None:
            span = self.spans[id(message)] = _Span(message, self.offset - len(line))
        elif span.end != self.offset - len(line):
            self.broken = True
        span.end = self.offset
        span.lines += 1
        span.eol = next((len(end) for end in _LINE_ENDS if line.endswith(end)), 0)
        return "\n" if span.eol else "x"


_PARSEGEN_CODE = _stdlib.FeedParser._parsegen.__code__  # type: ignore[attr-defined]


def leaf_parser(parser_class: type[_P]) -> _P | None:
    """A parser (of ``parser_class``, making :class:`RawBodyMessage`) whose leaves'
    bodies are not collected line by line; :func:`attach_leaf_bodies` gives them their
    bytes once it is closed. ``None`` where this Python's parser is not the expected one."""
    if _LEAF_LOOP is None:
        return None
    parser = parser_class(RawBodyMessage)
    parser._input = _LeafLines(parser)  # type: ignore[attr-defined]
    return parser


def attach_leaf_bodies(parser: _stdlib.BytesFeedParser[Any], data: bytes) -> bool:
    """Give each leaf :func:`leaf_parser` read its body from ``data`` (the bytes it was
    fed): what the parser would have made of those lines, less the line end it strips
    from a part before the next boundary. ``False`` if anything is not as expected
    (then the tree is not the parser's: parse again without it)."""
    lines: _LeafLines = parser._input  # type: ignore[attr-defined]
    spans, lines.spans, lines.parser = lines.spans, {}, None  # no cycle keeps the tree
    if lines.broken:
        return False
    for span in spans.values():
        payload = span.message.__dict__.get("_text_payload")
        stand_in = "\n" * (span.lines - 1) + ("\n" if span.eol else "x")
        if payload == stand_in:
            end = span.end
        elif span.eol and payload == stand_in[:-1]:
            end = span.end - span.eol  # the part's last line end belongs to the boundary
        else:
            return False
        span.message.attach_body(data[span.start : end])
    return True
