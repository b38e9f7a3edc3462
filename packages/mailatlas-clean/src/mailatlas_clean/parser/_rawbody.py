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

import io
import re
from email.message import Message
from email.policy import compat32
from typing import Any

__all__ = ["HEADER_LINE", "RawBodyMessage", "body_start", "flatten_leaf", "take_body"]

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


# How much of a body :func:`_lf_line_ends` turns into ``\n`` line ends at a time.
LINE_END_PIECE = 1 << 20


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
        return _lf_line_ends(head, body)
    return head + body


def _lf_line_ends(head: bytes, body: bytes) -> bytes:
    """``head + body`` with every ``\r\n`` and lone ``\r`` of ``body`` made ``\n``.

    Written a piece at a time into one buffer of the final size, handed over without a
    copy (``BytesIO.getvalue``): ``re.sub`` held every line as an object of its own
    plus their join (about five times the body at once for 80-character lines), and
    even ``bytes.replace`` then ``head +`` holds the body three times. A piece never
    ends between the ``\r`` and ``\n`` of a pair.
    """
    size = len(head) + len(body) - body.count(b"\r\n")
    out = io.BytesIO()
    out.seek(size - 1)
    out.write(b"\0")
    out.seek(0)
    out.write(head)
    start, end = 0, len(body)
    while start < end:
        stop = min(start + LINE_END_PIECE, end)
        if stop < end and body[stop - 1] == 0x0D and body[stop] == 0x0A:
            stop += 1  # keep a \r\n pair in one piece
        out.write(body[start:stop].replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        start = stop
    out.truncate(out.tell())
    return out.getvalue()
