"""The MIME walk: body text candidates, assets, attached messages and defect notes.

Walks the part tree that ``email.message_from_bytes`` builds (the tree mail-parser
parses with) and decides, for every leaf, whether it is body or an asset:

* ``text/plain`` and ``text/html`` parts are body unless they are attachments. A named
  text part is body when it is ``inline`` (Apple Mail splits one body around inline
  images) or when no body was found yet; otherwise it is an attachment.
* In ``multipart/alternative`` the plain version comes from the first child that has
  one and the HTML version from the last (RFC 2046 orders by increasing richness).
* ``message/*`` parts are kept whole as attachments and never merged into the body; the
  subject and sender of an attached message are noted.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any

from mailatlas_core.ids import normalize_message_id
from mailparser.utils import as_string_safe

from ._charsets import decode_text
from ._headers import HeaderView, decode_header_value, raw_header_text

__all__ = ["FoundAsset", "MimeContent", "walk_message"]

_MAX_DEPTH = 64
_BODY_TYPES = ("text/plain", "text/html")
_NAME_HEADERS = ("content-disposition", "content-type")
_DEFECT_TEXT = {
    "InvalidBase64PaddingDefect": "base64 data has bad padding (decoded best-effort)",
    "InvalidBase64CharactersDefect": "base64 data has invalid characters (they were skipped)",
    "InvalidBase64LengthDefect": "base64 data has an impossible length (decoded best-effort)",
    "StartBoundaryNotFoundDefect": "the multipart start boundary is missing",
    "CloseBoundaryNotFoundDefect": "the multipart closing boundary is missing",
    "NoBoundaryInMultipartDefect": "a multipart part has no boundary",
    "MissingHeaderBodySeparatorDefect": "a header line is malformed; the rest is body",
    "MultipartInvariantViolationDefect": "a part claims to be multipart but is not",
    "FirstHeaderLineIsContinuationDefect": "the first header line is a continuation line",
    "MisplacedEnvelopeHeaderDefect": "an mbox 'From ' line appears inside the headers",
}


@dataclass(slots=True)
class FoundAsset:
    """An asset as found in the tree, before its name is made safe."""

    kind: str
    mime_type: str
    data: bytes
    original_filename: str | None
    cid: str | None
    part: str


@dataclass(slots=True)
class MimeContent:
    """What the walk found."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    assets: list[FoundAsset] = field(default_factory=list)
    attached_messages: list[dict[str, Any]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def extend(self, other: MimeContent) -> None:
        self.plain.extend(other.plain)
        self.html.extend(other.html)
        self.assets.extend(other.assets)
        self.attached_messages.extend(other.attached_messages)
        self.defects.extend(other.defects)


def _describe(defect: object) -> str:
    name = type(defect).__name__
    text = _DEFECT_TEXT.get(name)
    if text is None:
        doc = (type(defect).__doc__ or "").strip().splitlines()
        text = doc[0] if doc else "malformed MIME"
    return f"{name}: {text}"


def _note_defects(part: Message, path: str, out: MimeContent) -> None:
    for defect in part.defects:
        out.defects.append(f"part {path}: {_describe(defect)}")


def _filename(part: Message) -> str | None:
    try:
        name = _eight_bit_filename(part)
        if name is None:
            name = part.get_filename()
    except (LookupError, UnicodeError, ValueError, TypeError):
        return None
    if not name:
        return None
    return decode_header_value(raw_header_text(name)) or None


def _has_eight_bit(value: object) -> bool:
    try:
        str(value).encode("ascii")
    except UnicodeEncodeError:
        return True
    return False


def _eight_bit_filename(part: Message) -> str | None:
    """The file name from headers holding raw 8-bit bytes, else ``None``.

    compat32 replaces such bytes with U+FFFD before ``get_filename`` sees them, so a
    raw UTF-8 ``filename="été.txt"`` came out as ``"��t��.txt"`` and an RFC 2231
    ``filename*=utf-8''été.txt`` as a literal ``"\\ufffd..."``. Here the bytes are
    carried as Latin-1 characters (what RFC 2231 decoding expects), then decoded.
    """
    headers = [(k, v) for k, v in part.raw_items() if k.lower() in _NAME_HEADERS]
    if not any(_has_eight_bit(v) for _k, v in headers):
        return None
    proxy = Message()
    for key, value in headers:
        data = str(value).encode("ascii", "surrogateescape")
        proxy[key] = data.decode("latin-1")
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        found = proxy.get_param(param, None, header)
        if found is None:
            continue
        if isinstance(found, tuple):  # RFC 2231: decoded with the charset it names
            return collapse_rfc2231_value(found).strip()
        return raw_header_text(str(found).encode("latin-1").decode("ascii", "surrogateescape"))
    return None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except (ValueError, TypeError, IndexError):
        return None


def _charset(part: Message) -> str | None:
    try:
        value = part.get_param("charset")
    except (ValueError, TypeError, IndexError):
        return None
    if isinstance(value, tuple):  # RFC 2231 form
        value = value[2]
    return raw_header_text(value).strip() if value else None


def _payload_bytes(part: Message) -> bytes:
    fast = _large_base64(part)
    if fast is not None:
        return fast
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


_LARGE_PART = 1 << 20
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/\r\n=]")
_NOT_PADDING = re.compile(rb"[^\r\n=]")


def _large_base64(part: Message) -> bytes | None:
    """Decode a big, well-formed base64 body in one pass, else ``None``.

    The stdlib splits the body into one bytes object per line and joins them again
    before decoding: about three times the part's size at once (a 200 MB attachment
    peaked near 2 GB). Well-formed data decodes to the same bytes here; anything odd
    takes the stdlib path, which notes the defects.
    """
    if part.is_multipart():
        return None
    if str(part.get("content-transfer-encoding", "")).lower() != "base64":
        return None
    payload = part.get_payload()
    if not isinstance(payload, str) or len(payload) < _LARGE_PART:
        return None
    try:
        encoded = payload.encode("ascii")
    except UnicodeError:
        return None
    if _NOT_BASE64.search(encoded):
        return None
    pad = encoded.find(b"=")
    if pad != -1 and (encoded.count(b"=", pad) > 2 or _NOT_PADDING.search(encoded, pad)):
        return None
    try:
        return binascii.a2b_base64(encoded)
    except binascii.Error:
        return None


def _message_bytes(part: Message, path: str, out: MimeContent) -> bytes:
    """The bytes of a ``message/*`` part's body, flattened back from the tree."""
    payload = part.get_payload()
    try:
        if isinstance(payload, list):
            if part.get_content_type() in ("message/rfc822", "message/global") and payload:
                sub = payload[0]
                return bytes(sub.as_bytes()) if isinstance(sub, Message) else b""
            data = part.as_bytes()
            sep = data.find(b"\n\n")
            return data[sep + 2 :] if sep != -1 else b""
        return _payload_bytes(part)
    except (LookupError, UnicodeError, ValueError, TypeError):
        out.defects.append(f"part {path}: the attached message could not be re-serialised")
        flat: str = as_string_safe(payload[0] if isinstance(payload, list) else part)
        return flat.encode("utf-8", "surrogateescape")


def _attached_message(part: Message, path: str, out: MimeContent) -> None:
    payload = part.get_payload()
    subject, sender = "", None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        view = HeaderView(payload[0])
        subject = view.subject
        senders = view.addresses("from")
        sender = senders[0] if senders else None
    data = _message_bytes(part, path, out)
    filename = _filename(part)
    out.assets.append(FoundAsset("attachment", part.get_content_type(), data, filename, None, path))
    if part.get_content_type() in ("message/rfc822", "message/global"):
        out.attached_messages.append(
            {"part": path, "subject": subject, "sender": sender, "filename": filename}
        )


def _leaf(part: Message, ctype: str, path: str, out: MimeContent, have_body: bool) -> None:
    disposition = _disposition(part)
    filename = _filename(part)
    data = _payload_bytes(part)
    _note_defects(part, path, out)  # after decoding: base64 defects are added by it
    is_body_type = ctype in _BODY_TYPES or ctype.startswith("multipart/")
    wanted = not filename or disposition == "inline" or not have_body
    if is_body_type and disposition != "attachment" and wanted:
        text, note = decode_text(data, _charset(part))
        if note:
            out.defects.append(f"part {path}: {note}")
        (out.html if ctype == "text/html" else out.plain).append(text)
        return
    raw_cid = part.get("Content-ID")
    cid = normalize_message_id(raw_header_text(raw_cid)) if raw_cid is not None else None
    inline = disposition == "inline" or (disposition is None and cid is not None)
    kind = "inline" if inline else "attachment"
    out.assets.append(FoundAsset(kind, ctype, data, filename, cid, path))


def _walk(part: Message, path: str, out: MimeContent, depth: int) -> None:
    if depth > _MAX_DEPTH:
        out.defects.append(f"part {path}: nesting deeper than {_MAX_DEPTH}; the rest is skipped")
        return
    ctype = part.get_content_type()
    if ctype.startswith("message/") and part.is_multipart():
        _note_defects(part, path, out)
        _attached_message(part, path, out)
        return
    if not part.is_multipart():
        _leaf(part, ctype, path, out, bool(out.plain or out.html))
        return
    _note_defects(part, path, out)
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    prefix = "" if path == "0" else path + "."
    if ctype != "multipart/alternative":
        for index, child in enumerate(children, 1):
            _walk(child, f"{prefix}{index}", out, depth + 1)
        return
    versions = []
    for index, child in enumerate(children, 1):
        sub = MimeContent()
        _walk(child, f"{prefix}{index}", sub, depth + 1)
        versions.append(sub)
    plain = next((v.plain for v in versions if v.plain), [])
    html = next((v.html for v in reversed(versions) if v.html), [])
    out.plain.extend(plain)
    out.html.extend(html)
    for version in versions:
        out.assets.extend(version.assets)
        out.attached_messages.extend(version.attached_messages)
        out.defects.extend(version.defects)


def walk_message(message: Message) -> MimeContent:
    """Walk a parsed message and collect its body candidates, assets and defects.

    Part paths follow IMAP section numbering ("1", "2.1"...); a single-part message's
    only part is "1" and the top-level container is "0".
    """
    out = MimeContent()
    if message.is_multipart() and message.get_content_maintype() != "message":
        _walk(message, "0", out, 0)
    else:
        _walk(message, "1", out, 0)
    return out
