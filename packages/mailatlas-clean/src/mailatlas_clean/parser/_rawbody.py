"""A single-part message's body read from the raw bytes, not through the stdlib parser.

The stdlib parser turns a body into one ``str`` line by line: every line an object of
its own, then all of them joined (about 2.7 times the body's size at once, and twice
that for 8-bit bytes, held as surrogates). For a message that is a single leaf (not
``multipart/*``, not ``message/*``) that body is simply the rest of the input after the
blank line that ends the header block: the parser reads nothing in it. So only the
header block is fed to the parser, and the message keeps the body's bytes (a large
body of the raw message as a :class:`Span`: the raw message and two offsets, no copy);
:func:`take_body` hands the body's bytes to the MIME walk, which decodes them directly.

Whatever else asks for the payload (``get_payload``, the generator, which reads
``_payload``) gets the very ``str`` the parser would have built (the body decoded as
ASCII with ``surrogateescape``, as ``BytesFeedParser`` decodes its input), made on
first use.

:func:`flat_leaf` is ``as_bytes()`` of such a leaf (an attached message is stored
whole, flattened back from the tree) without the generator's copy of every line, in
two pieces: the header block written, the body still where it is, so that the flat
copy can be made after the leaf's text is decoded, not beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from functools import lru_cache
from typing import Any

from mailatlas_core._buffers import presized

__all__ = [
    "HEADER_LINE",
    "FlatLeaf",
    "RawBodyMessage",
    "Span",
    "body_start",
    "flat_leaf",
    "take_body",
]

# email.feedparser's headerRE and NLCRE, on bytes: a header line, a header block's end.
# The field name is taken possessively and only from the start of a run of name
# characters, so that a search (not only a match at a line start) is linear too; ':' is
# not a name character, so neither changes what a match at a line start finds.
HEADER_LINE = re.compile(rb"From |(?<![\041-\071\073-\176])[\041-\071\073-\176]*+:|[\t ]")
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
        if HEADER_LINE.match(data, pos) is None:
            return found.end() if found.start() == pos else None
        pos = found.end()
    return None


@dataclass(frozen=True, slots=True)
class Span:
    """``data[start:stop]``, not copied out of ``data`` (a large body of the raw message)."""

    data: bytes
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def tobytes(self) -> bytes:
        """The spanned bytes: ``data`` itself when the span is all of it, else a copy."""
        if self.start == 0 and self.stop == len(self.data):
            return self.data
        return self.data[self.start : self.stop]

    def view(self) -> memoryview:
        return memoryview(self.data)[self.start : self.stop]


# Header names and values up to this long are shared between parts (RawBodyMessage.set_raw).
_SHARED_HEADER = 200


@lru_cache(maxsize=1024)
def _shared_header(text: str) -> str:
    """``text``, as the first equal str of the last 1,024 distinct ones seen."""
    return text


class RawBodyMessage(Message):
    """A :class:`~email.message.Message` whose payload is the raw body, decoded only
    when something asks for it (see the module docstring).

    Its own attributes are set as attributes, not through ``__dict__``: reading an
    instance's ``__dict__`` makes it a dict object of its own (64 bytes a part).
    """

    _raw_body: bytes | Span | None
    _text_payload: Any

    def set_raw(self, name: str, value: Any) -> None:
        # The parser stores each header line through here. Short names and values are
        # shared: a message of many small parts repeats them in every part
        # ("Content-Type", "text/plain"), and its part tree, two to four strs per part,
        # was a third of the tree's Python objects (~270 of ~750 bytes a part).
        if len(name) <= _SHARED_HEADER:
            name = _shared_header(name)
        if isinstance(value, str) and len(value) <= _SHARED_HEADER:
            value = _shared_header(value)
        super().set_raw(name, value)

    def attach_body(self, body: bytes | Span) -> None:
        """Hold ``body`` as the body: bytes of its own, or a span of the raw message."""
        self._raw_body = body
        self._text_payload = None

    def is_multipart(self) -> bool:
        if self._raw_body is not None:
            return False  # a body held as raw bytes is a leaf's (and reading _payload decodes it)
        return super().is_multipart()

    @property
    def _payload(self) -> Any:
        body = self._raw_body
        if body is not None:
            held = body if isinstance(body, bytes) else body.view()
            self._text_payload = str(held, "ascii", "surrogateescape")
            self._raw_body = None
        return self._text_payload

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self._raw_body = None
        self._text_payload = value


def take_body(part: Message) -> bytes | None:
    """The raw body bytes of ``part`` if it still holds them undecoded (then its
    payload becomes ``""``: the caller has the body), else ``None``."""
    if not isinstance(part, RawBodyMessage):
        return None
    body = part._raw_body
    if body is None:
        return None
    part._raw_body, part._text_payload = None, ""
    return body if isinstance(body, bytes) else body.tobytes()


@dataclass(frozen=True, slots=True)
class FlatLeaf:
    """A leaf's ``as_bytes()`` still in two pieces: its header block as the generator
    writes it, and its body as held (see :func:`flat_leaf`)."""

    head: bytes
    body: Span
    shared: bool  # the body is the tree's, not made for this: joining it later costs nothing

    def join(self) -> bytes:
        """The flat bytes: the body's line ends made ``\n``, after the header block."""
        body = self.body
        if body.data.find(b"\r", body.start, body.stop) != -1:
            return _lf_line_ends(self.head, self.body)
        return self.head + self.body.view()


def flat_leaf(message: Message, least: int) -> FlatLeaf | None:
    """``message.as_bytes()`` for a leaf (not ``multipart/*``, not ``message/*``) whose
    body is at least ``least`` bytes, in two pieces (:meth:`FlatLeaf.join` makes the
    bytes), else ``None``.

    The generator writes such a body line by line (every line a ``str`` of its own, then
    each encoded: about three times the body at once). What it writes is the header
    block (as for an empty body), then the body with every line end made ``\n``
    (compat32's line separator; ``_write_lines`` splits on ``\r\n``, ``\r`` and
    ``\n``), encoded back with ``surrogateescape``: that is made here directly. A body
    held by offset stays where it is (``shared``) until :meth:`FlatLeaf.join`.
    """
    if (
        message.policy is not compat32
        or message.is_multipart()
        or message.get_content_maintype() in ("multipart", "message")
    ):
        return None
    if isinstance(message, RawBodyMessage) and message._raw_body is not None:
        raw = message._raw_body
        span = raw if isinstance(raw, Span) else Span(raw, 0, len(raw))
        if span.size < least:
            return None
        message._raw_body, message._text_payload = None, ""
        try:
            head = message.as_bytes()
        finally:
            message.attach_body(raw)
        return FlatLeaf(head, span, True)
    held = "_text_payload" if isinstance(message, RawBodyMessage) else "_payload"
    payload = getattr(message, held, None)
    if not isinstance(payload, str) or len(payload) < least:
        return None
    message.set_payload("")
    try:
        head = message.as_bytes()
    finally:
        message.set_payload(payload)
    body = payload.encode("ascii", "surrogateescape")
    del payload
    return FlatLeaf(head, Span(body, 0, len(body)), False)


# How much of a body :func:`_lf_line_ends` turns into ``\n`` line ends at a time.
LINE_END_PIECE = 1 << 20


def _lf_line_ends(head: bytes, span: Span) -> bytes:
    """``head + body`` with every ``\r\n`` and lone ``\r`` of the body made ``\n``.

    Written a piece at a time into one buffer of the final size, handed over without a
    copy (``mailatlas_core._buffers.presized``): ``re.sub`` held every line as an object
    of its own plus their join (about five times the body at once for 80-character
    lines), and even ``bytes.replace`` then ``head +`` holds the body three times. A piece never
    ends between the ``\r`` and ``\n`` of a pair.
    """
    body, start, end = span.data, span.start, span.stop
    size = len(head) + span.size - body.count(b"\r\n", start, end)
    out = presized(size)
    out.write(head)
    while start < end:
        stop = min(start + LINE_END_PIECE, end)
        if stop < end and body[stop - 1] == 0x0D and body[stop] == 0x0A:
            stop += 1  # keep a \r\n pair in one piece
        out.write(body[start:stop].replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        start = stop
    out.truncate(out.tell())
    return out.getvalue()
