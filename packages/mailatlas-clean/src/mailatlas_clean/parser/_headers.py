"""Header decoding for the document model.

RFC 2047 encoded words are decoded here, as the standard library's ``email`` package
does: anywhere in an unstructured header, inside quoted display names too
(``"=?ISO-8859-1?Q?Fran=E7ois?=" <f@x>``, common in the wild), with RFC 2231 language
suffixes (``=?iso-8859-2*sl?Q?...?=``) and adjacent words of one charset joined before
decoding (a character split across two words survives). The bytes are decoded by
:func:`decode_text` (the declared charset, bad bytes as U+FFFD one by one, detection
only when the label is unknown or impossible). Raw 8-bit header bytes (RFC 6532 UTF-8,
or legacy charsets) are decoded as UTF-8 first, then with the charset the message's
body declares, then by detection over the headers and body together, so no surrogate
escapes reach the model. ``mailparser.utils.get_addresses`` is mail-parser's forensic
address parser (it recovers display names without ever inventing a mailbox).
"""

from __future__ import annotations

import binascii
import logging
import re
import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.utils import getaddresses
from typing import Any

from mailatlas_core import Mailbox, Recipients, normalize_message_id, parse_mail_date
from mailparser.utils import get_addresses

from ..cleaning._invisible import visible_text
from ._charsets import decode_text, lookup_charset

__all__ = [
    "HeaderView",
    "decode_encoded_words",
    "decode_header_value",
    "decode_raw_header",
    "first_raw",
    "raw_header_text",
]

# mail-parser logs undecodable encoded words at ERROR; with no logging configured Python
# would print them on stderr. We record them as defects instead; an application that
# configures logging still receives the records through propagation.
logging.getLogger("mailparser").addHandler(logging.NullHandler())

_FOLD = re.compile(r"\r?\n[ \t]*")
_ANGLE_ID = re.compile(r"<([^<>]+)>")
_LENIENT = HeaderRegistry()
_SENDERS = ("from", "sender")
# The common shapes, ``"Name" <a@b>``, ``Name <a@b>`` and ``a@b``, with no encoded words,
# comments, groups or second mailbox: read directly. Anything else goes to mail-parser.
# Split with str methods, then each piece is matched by one class: a single pattern with
# ``\s*`` around a display name that may itself hold spaces backtracked cubically on a
# ``To:`` of 20,000 spaces (seconds; minutes at 100 KB).
# The lookbehind lets only the start of a run begin a match (linear in a search, too).
_ADDRESS = re.compile(r'(?<![^<>@\s,;:()"])[^<>@\s,;:()"]+@[^<>@\s,;:()"]+')
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 .'_-]*")
_QUOTED_NAME = re.compile(r'"[^"\\]*"')


def _simple_mailbox(value: str) -> tuple[str, str] | None:
    """``(display name, address)`` for the common shapes, else ``None``."""
    text = value.strip()
    if not text.endswith(">"):
        return ("", text) if _ADDRESS.fullmatch(text) else None
    opening = text.rfind("<")
    address = text[opening + 1 : -1]
    if opening == -1 or not _ADDRESS.fullmatch(address):
        return None
    display = text[:opening].strip()
    if _QUOTED_NAME.fullmatch(display):
        return display[1:-1].strip(), address
    return (display, address) if _PLAIN_NAME.fullmatch(display) else None


# An encoded word: =?charset[*lang]?Q|B?payload?=. Neither part can hold "?", so each
# match attempt stops at the next "?" (linear).
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")
_BLANK = re.compile(r"[ \t]*")


def _eight_bit_bytes(value: Any) -> bytes | None:
    """The raw bytes of a compat32 header value that holds 8-bit bytes, else ``None``."""
    text = str(value)
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return None  # already real text (a str header set by code, not parsed bytes)


def decode_raw_header(data: bytes, hint: str | None = None, extra: tuple[bytes, ...] = ()) -> str:
    """Raw 8-bit header bytes as text: UTF-8 (bad bytes as U+FFFD when it is clearly
    UTF-8), else ``hint`` (the charset the body declares), else detection."""
    text, _note = decode_text(data, None, extra, hint)
    return text


def raw_header_text(value: Any) -> str:
    """A raw compat32 header value as real text (8-bit bytes decoded, no surrogates)."""
    data = _eight_bit_bytes(value)
    return str(value) if data is None else decode_raw_header(data)


def _word_bytes(encoding: str, payload: str, charset: str) -> bytes | None:
    try:
        raw = payload.encode("ascii")
    except UnicodeEncodeError:
        # Raw 8-bit bytes inside the word (seen in the wild): they were decoded with the
        # header; put them back in the word's own charset, as the standard library does.
        codec = lookup_charset(charset) or "utf-8"
        try:
            raw = payload.encode(codec)
        except (UnicodeError, LookupError):
            raw = payload.encode("utf-8")
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(raw, header=True)
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return None


def decode_encoded_words(text: str) -> str:
    """Undo every RFC 2047 encoded word in ``text`` (see the module docstring)."""
    out: list[str] = []
    pending: list[bytes] = []
    charset = ""
    last = 0

    def flush() -> None:
        if pending:
            decoded, _note = decode_text(b"".join(pending), charset or None)
            out.append(decoded)
            pending.clear()

    for match in _ENCODED_WORD.finditer(text):
        word_charset = match.group(1).partition("*")[0].lower()
        data = _word_bytes(match.group(2), match.group(3), word_charset)
        if data is None:
            continue  # not decodable: left as it is, like the standard library
        between = text[last : match.start()]
        if not (pending and _BLANK.fullmatch(between)):
            flush()
            out.append(between)
        elif word_charset != charset:
            flush()  # adjacent words: the blank between them goes (RFC 2047 6.2)
        charset = word_charset
        pending.append(data)
        last = match.end()
    flush()
    out.append(text[last:])
    return "".join(out)


def decode_header_value(value: Any) -> str:
    """Decode one header value to the text people see: unfold, undo RFC 2047,
    NFC-normalise, drop invisible, bidi control and control characters."""
    if value is None:
        return ""
    text = _FOLD.sub(" ", raw_header_text(value))
    decoded = decode_encoded_words(text).strip() if "=?" in text else text.strip()
    decoded = decoded.replace("\r", "").replace("\n", " ")
    return visible_text(unicodedata.normalize("NFC", decoded))


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


def _display_name(text: str) -> str:
    """A display name as parsed (quotes removed), with its encoded words decoded, and
    without invisible, bidi control or control characters (see ``visible_text``)."""
    if "=?" in text:
        text = decode_encoded_words(text)
    return visible_text(unicodedata.normalize("NFC", text)).strip()


def _body_charset(message: Message) -> str | None:
    """The first legacy (not ASCII, not UTF-8) charset a text part declares."""
    try:
        charsets = message.get_charsets()
    except (LookupError, UnicodeError, ValueError, TypeError, IndexError):
        return None
    for label in charsets:
        codec = lookup_charset(label) if isinstance(label, str) else None
        if codec not in (None, "ascii", "utf-8"):
            return label if isinstance(label, str) else None
    return None


_BODY_SAMPLE = 16 * 1024


def _body_sample(message: Message) -> tuple[bytes, ...]:
    """The 8-bit bytes of the first undeclared text part: more sample for detection."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_param("charset") is not None:
            return ()
        try:
            data = part.get_payload(decode=True)
        except (LookupError, UnicodeError, ValueError, TypeError):
            return ()
        if isinstance(data, bytes) and not data.isascii():
            return (data[:_BODY_SAMPLE],)
        return ()
    return ()


class HeaderView:
    """The headers of one message, decoded once into what the model needs."""

    def __init__(self, message: Message) -> None:
        self.defects: list[str] = []
        #: Raw 8-bit header values that are not UTF-8: a sample for body detection.
        self.legacy_bytes: tuple[bytes, ...] = ()
        self._raw: dict[str, list[str]] = {}
        legacy: list[tuple[str, bytes]] = []
        for key, value in message.raw_items():
            data = _eight_bit_bytes(value)
            if data is not None:
                try:
                    value = data.decode("utf-8")
                except UnicodeDecodeError:
                    legacy.append((key.lower(), data))
                    continue
            self._raw.setdefault(key.lower(), []).append(str(value))
        if legacy:
            self._decode_legacy(message, legacy)

    def _decode_legacy(self, message: Message, legacy: list[tuple[str, bytes]]) -> None:
        """Decode non-UTF-8 raw headers with the body's charset or by detection."""
        self.legacy_bytes = tuple(data for _key, data in legacy)
        hint = _body_charset(message)
        extra = self.legacy_bytes if hint else (*self.legacy_bytes, *_body_sample(message))
        for key, data in legacy:
            # Appended after the UTF-8 values of the same name: only the first value of a
            # header is read, and a name with both kinds is vanishingly rare.
            self._raw.setdefault(key, []).append(decode_raw_header(data, hint, extra))

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

    def addresses(self, name: str) -> list[Mailbox]:
        """``[{name, email}]`` for an address header, via mail-parser's parser."""
        value = self.first(name)
        if not value:
            return []
        simple = _simple_mailbox(value)
        if simple is not None:
            raw_display, address = simple
            display = _display_name(raw_display)
            return [{"name": "" if display == address else display, "email": address}]
        unfolded = _FOLD.sub(" ", value)
        try:
            parsed = get_addresses(unfolded)
        except (HeaderParseError, LookupError, UnicodeError, ValueError) as exc:
            self.defects.append(f"{name} header: {type(exc).__name__}: {exc}; read as plain text")
            parsed = getaddresses([unfolded])
        out: list[Mailbox] = []
        for display, address in parsed:
            if not address:
                continue
            display = _display_name(display)
            out.append({"name": "" if display == address else display, "email": address})
        return out or self._lenient_addresses(name, unfolded)

    def _lenient_addresses(self, name: str, value: str) -> list[Mailbox]:
        """What the standard library's lenient parser reads when the forensic one found
        no mailbox (``From: foo``, ``Bob <b@x> Bobby <c@x>``, ``MAILER DAEMON <>``): the
        header's own words, noted as a defect, rather than no sender at all."""
        try:
            header = _LENIENT(name.replace("_", "-"), value)
            found = [
                (_display_name(a.display_name), "" if a.addr_spec == "<>" else a.addr_spec)
                for a in getattr(header, "addresses", ())
            ]
        except Exception:  # the stdlib's header parser has known crashes on odd input
            return []
        # A display name alone (null sender ``<>``) is kept for the sender only.
        out: list[Mailbox] = [
            {"name": n, "email": e} for n, e in found if e or (n and name in _SENDERS)
        ]
        if out:
            self.defects.append(f"{name} header holds no well-formed mailbox; read leniently")
        return out

    def recipients(self) -> Recipients:
        return {
            "to": self.addresses("to"),
            "cc": self.addresses("cc"),
            "bcc": self.addresses("bcc"),
            "reply_to": self.addresses("reply-to"),
        }

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
