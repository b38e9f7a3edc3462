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
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

__all__ = ["RawBodyMessage", "body_start", "take_body"]

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
