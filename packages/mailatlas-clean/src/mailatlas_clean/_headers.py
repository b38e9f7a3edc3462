"""Header decoding for the document model, on top of mail-parser's decoders.

``mailparser.utils.decode_header_part`` undoes RFC 2047 encoded words and
``mailparser.utils.get_addresses`` is mail-parser's forensic address parser (it recovers
display names without ever inventing a mailbox). Raw 8-bit header bytes (RFC 6532 UTF-8,
or legacy charsets) are decoded here first, so no surrogate escapes reach the model.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from email.errors import HeaderParseError
from email.message import Message
from email.utils import getaddresses
from typing import Any

from mailatlas_core.dates import parse_mail_date
from mailatlas_core.ids import normalize_message_id
from mailparser.utils import decode_header_part, get_addresses

from ._charsets import decode_text

__all__ = ["HeaderView", "decode_header_value", "first_raw", "raw_header_text"]

# mail-parser logs undecodable encoded words at ERROR; with no logging configured Python
# would print them on stderr. We record them as defects instead; an application that
# configures logging still receives the records through propagation.
logging.getLogger("mailparser").addHandler(logging.NullHandler())

_FOLD = re.compile(r"\r?\n[ \t]*")
_ANGLE_ID = re.compile(r"<([^<>]+)>")
_ADDRESS_FIELDS = {"to": "to", "cc": "cc", "bcc": "bcc", "reply_to": "reply-to"}
# The common shapes, ``"Name" <a@b>``, ``Name <a@b>`` and ``a@b``, with no encoded words,
# comments, groups or second mailbox: read directly. Anything else goes to mail-parser.
_SIMPLE_MAILBOX = re.compile(
    r'\s*(?:"(?P<quoted>[^"\\]*)"|(?P<plain>[A-Za-z0-9 .\'_-]*?))?\s*'
    r"<(?P<a>[^<>@\s,;:()\"]+@[^<>@\s,;:()\"]+)>\s*"
    r'|\s*(?P<bare>[^<>@\s,;:()"]+@[^<>@\s,;:()"]+)\s*'
)


def raw_header_text(value: Any) -> str:
    """A raw compat32 header value as real text (8-bit bytes decoded, no surrogates)."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("ascii", "surrogateescape")
        text, _note = decode_text(data, "utf-8")
    return text


def decode_header_value(value: Any) -> str:
    """Decode one header value: unfold, undo RFC 2047, NFC-normalise."""
    if value is None:
        return ""
    text = _FOLD.sub(" ", raw_header_text(value))
    decoded = decode_header_part(text) if "=?" in text else text.strip()
    decoded = decoded.replace("\r", "").replace("\n", " ").replace("\x00", "")
    return unicodedata.normalize("NFC", decoded)


def first_raw(message: Message, name: str) -> str | None:
    """The first raw value of header ``name`` (case-insensitive), or ``None``."""
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return raw_header_text(value)
    return None


def _message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = [normalize_message_id(f"<{m}>") for m in _ANGLE_ID.findall(value)]
    if not found:  # broken mailers send bare ids separated by spaces
        found = [normalize_message_id(part) for part in value.split()]
    return tuple(dict.fromkeys(mid for mid in found if mid))


class HeaderView:
    """The headers of one message, decoded once into what the model needs."""

    def __init__(self, message: Message) -> None:
        self.defects: list[str] = []
        self._raw: dict[str, list[str]] = {}
        for key, value in message.raw_items():
            self._raw.setdefault(key.lower(), []).append(raw_header_text(value))

    def first(self, name: str) -> str | None:
        values = self._raw.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._raw.get(name, [])

    @property
    def subject(self) -> str:
        return decode_header_value(self.first("subject"))

    @property
    def message_id(self) -> str | None:
        return normalize_message_id(self.first("message-id"))

    @property
    def in_reply_to(self) -> str | None:
        ids = _message_ids(self.first("in-reply-to"))
        return ids[0] if ids else None

    @property
    def references(self) -> tuple[str, ...]:
        return _message_ids(" ".join(self.all("references")))

    def addresses(self, name: str) -> list[dict[str, str]]:
        """``[{name, email}]`` for an address header, via mail-parser's parser."""
        value = self.first(name)
        if not value:
            return []
        simple = _SIMPLE_MAILBOX.fullmatch(value)
        if simple is not None:
            address = simple.group("a") or simple.group("bare") or ""
            display = (simple.group("quoted") or simple.group("plain") or "").strip()
            return [{"name": "" if display == address else display, "email": address}]
        unfolded = _FOLD.sub(" ", value)
        try:
            parsed = get_addresses(unfolded, decode_names=True)
        except (HeaderParseError, LookupError, UnicodeError, ValueError) as exc:
            self.defects.append(f"{name} header: {type(exc).__name__}: {exc}; read as plain text")
            parsed = getaddresses([unfolded])
        out: list[dict[str, str]] = []
        for display, address in parsed:
            if not address:
                continue
            display = unicodedata.normalize("NFC", display.strip())
            display = display.replace("\x00", "")
            out.append({"name": "" if display == address else display, "email": address})
        return out

    def recipients(self) -> dict[str, list[dict[str, str]]]:
        return {key: self.addresses(header) for key, header in _ADDRESS_FIELDS.items()}

    def date(self) -> tuple[str | None, str | None, str | None]:
        """``(utc_iso, offset, original)`` of the ``Date`` header."""
        original = self.first("date")
        iso, offset = parse_mail_date(original)
        return iso, offset, (_FOLD.sub(" ", original).strip() if original else None)

    def newest_received(self) -> str | None:
        """UTC ISO date of the newest (topmost) ``Received`` header that has a date."""
        for value in self.all("received"):
            _head, sep, when = value.rpartition(";")
            if sep:
                iso, _offset = parse_mail_date(_FOLD.sub(" ", when))
                if iso:
                    return iso
        return None
