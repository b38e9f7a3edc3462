"""The MIME walk: body text candidates, assets, attached messages, a parts manifest.

Walks the part tree that ``email.message_from_bytes`` builds (the tree mail-parser
parses with) and decides, for every leaf, where it goes. Every leaf gets a
:class:`PartRecord` (``metadata.parts``), so nothing is skipped silently:

* ``text/plain`` and ``text/html`` parts are body, unless they are named, disposed as
  ``attachment``, or their content sniffs as binary (a GIF labelled ``text/plain``):
  then they are assets, like every other non-text part.
* In ``multipart/alternative`` the plain version comes from the first child that has
  one and the HTML version from the last (RFC 2046 orders by increasing richness); the
  other versions are recorded as ``alternative`` twins of the stored ones.
* ``message/rfc822`` parts are kept whole as assets and never merged into the body; the
  parts inside them are walked too: named and non-text parts become assets of their
  own, text bodies are noted so the caller can use them when the outer body is empty.
* A multipart whose boundary is unusable is parsed again with the boundary its body
  really uses, or else read as text with the MIME framing removed (``_boundary``).
"""

from __future__ import annotations

import binascii
import quopri
import re
from email.message import Message
from email.utils import collapse_rfc2231_value

from mailatlas_core import normalize_message_id
from mailparser.utils import as_string_safe

from ._boundary import recover_multipart, strip_mime_framing
from ._charsets import decode_text
from ._content import AttachedText, BodyPart, FoundAsset, MimeContent, PartRecord
from ._headers import HeaderView, decode_header_value, raw_header_text
from ._rawbody import FlatLeaf, flat_leaf, take_body
from ._sniff import binary_kind

__all__ = ["MimeContent", "walk_message"]

_MAX_DEPTH = 64
_BODY_TYPES = ("text/plain", "text/html")
_MESSAGE_TYPES = ("message/rfc822", "message/global")
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
    body = take_body(part)
    if body is not None:  # read from the raw message, not through the parser's tree
        decoded = _decode_body(part, body)
        if decoded is not None:
            return decoded
        part.set_payload(body.decode("ascii", "surrogateescape"))  # the parser's str
        del body
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
    return _clean_base64(encoded)


def _clean_base64(encoded: bytes) -> bytes | None:
    """``encoded`` decoded, if it is well-formed base64 (lines of the alphabet, padding
    only at the end, whole groups of four), else ``None``: the stdlib's decoder then
    notes its defects."""
    if _NOT_BASE64.search(encoded):
        return None
    if (len(encoded) - encoded.count(b"\n") - encoded.count(b"\r")) % 4:
        return None  # the stdlib pads it and notes a defect
    pad = encoded.find(b"=")
    if pad != -1 and (encoded.count(b"=", pad) > 2 or _NOT_PADDING.search(encoded, pad)):
        return None
    try:
        return binascii.a2b_base64(encoded)
    except binascii.Error:
        return None


_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")


def _decode_body(part: Message, body: bytes) -> bytes | None:
    """``part.get_payload(decode=True)`` for a body held as raw bytes, or ``None``
    where only the stdlib's decoder can say it (defects, uuencode)."""
    cte = str(part.get("content-transfer-encoding", "")).lower()
    if cte == "quoted-printable":
        return quopri.decodestring(body)
    if cte == "base64":
        return _clean_base64(body)
    if cte in _UUENCODE:
        return None
    return body


def _message_bytes(part: Message, path: str, out: MimeContent) -> bytes | FlatLeaf:
    """The bytes of a ``message/*`` part's body, flattened back from the tree; a large
    single-part message held by offset comes back in pieces, to be joined later."""
    payload = part.get_payload()
    try:
        if isinstance(payload, list):
            if part.get_content_type() in ("message/rfc822", "message/global") and payload:
                sub = payload[0]
                if not isinstance(sub, Message):
                    return b""
                leaf = flat_leaf(sub, _LARGE_PART)
                if leaf is None:
                    return bytes(sub.as_bytes())
                return leaf if leaf.shared else leaf.join()
            data = part.as_bytes()
            sep = data.find(b"\n\n")
            return data[sep + 2 :] if sep != -1 else b""
        return _payload_bytes(part)
    except (LookupError, UnicodeError, ValueError, TypeError):
        out.defects.append(f"part {path}: the attached message could not be re-serialised")
        flat: str = as_string_safe(payload[0] if isinstance(payload, list) else part)
        return flat.encode("utf-8", "surrogateescape")


def _attached_message(part: Message, ctype: str, path: str, out: MimeContent, depth: int) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    data = _message_bytes(part, path, out)
    filename = _filename(part)
    # A body held by offset is joined to its header block only after the walk has
    # decoded its text: the flat copy and the body's decoded copies never coexist.
    held = b"" if isinstance(data, FlatLeaf) else data
    asset = FoundAsset("attachment", ctype, held, filename, None, path, out.message)
    out.assets.append(asset)
    if ctype not in _MESSAGE_TYPES or not isinstance(inner, Message):
        # message/delivery-status and the like: one leaf, stored whole.
        disposition = _disposition(part)
        record = PartRecord(path, ctype, disposition, filename, len(held), "asset", asset)
        record.message = out.message
        out.parts.append(record)
        return
    view = HeaderView(inner)
    senders = view.addresses("from")
    out.attached_messages.append(
        {
            "part": path,
            "subject": view.subject,
            "sender": senders[0] if senders else None,
            "filename": filename,
        }
    )
    nested = MimeContent(message=path, container=asset)
    _walk_body(inner, path, nested, depth + 1)
    if isinstance(data, FlatLeaf):
        asset.data = data.join()
        del data
    if out.message is None:
        out.forwarded.append(AttachedText(path, inner, nested.plain, nested.html))
    nested.plain, nested.html, nested.forwarded = [], [], []
    out.extend(nested)


def _text_leaf(record: PartRecord, text: str, ctype: str, out: MimeContent) -> None:
    if out.message is None:
        record.stored_as = "body_html" if ctype == "text/html" else "body_text"
    else:
        record.stored_as, record.asset = "attached_message", out.container
    (out.html if ctype == "text/html" else out.plain).append(BodyPart(text, record))


def _leaf(part: Message, ctype: str, path: str, out: MimeContent) -> None:
    disposition = _disposition(part)
    filename = _filename(part)
    ctype = out.shared(ctype)
    disposition = out.shared(disposition) if disposition is not None else None
    filename = out.shared(filename) if filename is not None else None
    data = _payload_bytes(part)
    # The tree's copy of the body (a str, up to twice its size) is read only once: free
    # it now, so a large part is not held twice more while it is decoded and cleaned.
    part.set_payload("")
    _note_defects(part, path, out)  # after decoding: base64 defects are added by it
    size = out.size(data)
    record = PartRecord(path, ctype, disposition, filename, size, "asset", message=out.message)
    out.parts.append(record)
    if ctype in _BODY_TYPES and disposition != "attachment" and not filename:
        charset = _charset(part)
        binary = binary_kind(data, charset)
        if binary is None:
            text, note = decode_text(data, charset, out.samples)
            if note:
                out.defects.append(f"part {path}: {note}")
            _text_leaf(record, text, ctype, out)
            return
        out.defects.append(f"part {path}: labelled {ctype} but holds {binary}; stored as an asset")
    raw_cid = part.get("Content-ID")
    cid = normalize_message_id(raw_header_text(raw_cid)) if raw_cid is not None else None
    inline = disposition == "inline" or (disposition is None and cid is not None)
    kind = "inline" if inline else "attachment"
    record.asset = FoundAsset(kind, ctype, data, filename, cid, path, out.message)
    out.assets.append(record.asset)


def second_multipart_type(part: Message) -> str | None:
    """A multipart type named by a second ``Content-Type`` header (the stdlib reads the
    first, so a ``text/plain`` header above the real one makes the whole MIME body one
    text part)."""
    values = part.get_all("content-type")
    if not values or len(values) < 2:
        return None
    for value in values[1:]:
        ctype = str(value).split(";", 1)[0].strip().lower()
        if ctype.startswith("multipart/"):
            return ctype
    return None


def _broken_multipart(part: Message, ctype: str, path: str, out: MimeContent, depth: int) -> None:
    """A multipart the stdlib could not split: recover its parts, else keep its text."""
    _note_defects(part, path, out)
    recovered = recover_multipart(part, ctype)
    if recovered is not None:
        container, boundary = recovered
        sub = out.child()
        _walk_children(container, ctype, f"{path}.", sub, depth)
        for record in sub.parts:
            record.recovered = True
        out.defects.append(
            f"part {path}: the multipart boundary is unusable; {len(sub.parts)} part(s) "
            f"recovered with the boundary its body uses ({boundary!r})"
        )
        out.extend(sub)
        return
    data = _payload_bytes(part)
    record = PartRecord(path, ctype, _disposition(part), None, len(data), "body_text")
    record.message = out.message
    out.parts.append(record)
    text, note = decode_text(data, _charset(part), out.samples)
    if note:
        out.defects.append(f"part {path}: {note}")
    text, removed = strip_mime_framing(text, part.get_boundary())
    if removed:
        out.defects.append(
            f"part {path}: the multipart has no usable boundary; its text is kept with "
            f"{removed} line(s) of MIME framing removed"
        )
    _text_leaf(record, text, "text/plain", out)


def _demote(bodies: list[BodyPart], twin: str | None, out: MimeContent) -> None:
    """Versions of a multipart/alternative that are not stored: twins of stored ones."""
    for body in bodies:
        body.record.twin = twin
        if out.message is None:
            body.record.stored_as = "alternative"
    bodies.clear()


def _walk_children(
    container: Message, ctype: str, prefix: str, out: MimeContent, depth: int
) -> None:
    children = [c for c in container.get_payload() if isinstance(c, Message)]
    if ctype != "multipart/alternative":
        for index, child in enumerate(children, 1):
            _walk(child, f"{prefix}{index}", out, depth + 1)
        return
    versions = []
    for index, child in enumerate(children, 1):
        sub = out.child()
        _walk(child, f"{prefix}{index}", sub, depth + 1)
        versions.append(sub)
    plain = next((v for v in versions if v.plain), None)
    html = next((v for v in reversed(versions) if v.html), None)
    plain_twin = plain.plain[0].record.part if plain else None
    html_twin = html.html[0].record.part if html else None
    for version in versions:
        if version is not plain:
            _demote(version.plain, plain_twin or html_twin, out)
        if version is not html:
            _demote(version.html, html_twin or plain_twin, out)
        out.extend(version)


def _walk(part: Message, path: str, out: MimeContent, depth: int) -> None:
    if depth > _MAX_DEPTH:
        out.defects.append(f"part {path}: nesting deeper than {_MAX_DEPTH}; the rest is skipped")
        return
    ctype = part.get_content_type()
    if ctype.startswith("message/") and part.is_multipart():
        _note_defects(part, path, out)
        _attached_message(part, ctype, path, out, depth)
        return
    if not part.is_multipart():
        declared = ctype if ctype.startswith("multipart/") else second_multipart_type(part)
        if declared is not None:
            _broken_multipart(part, declared, path, out, depth)
        else:
            _leaf(part, ctype, path, out)
        return
    _note_defects(part, path, out)
    _walk_children(part, ctype, "" if path == "0" else path + ".", out, depth)


def _walk_body(message: Message, path: str, out: MimeContent, depth: int) -> None:
    """Walk a message's body; ``path`` is that of the attached message, "" at the top."""
    prefix = f"{path}." if path else ""
    if message.is_multipart() and message.get_content_maintype() != "message":
        _note_defects(message, path or "0", out)
        _walk_children(message, message.get_content_type(), prefix, out, depth)
    else:
        _walk(message, f"{prefix}1", out, depth)


def walk_message(message: Message, samples: tuple[bytes, ...] = ()) -> MimeContent:
    """Walk a parsed message and collect its body candidates, assets, manifest, defects.

    Part paths follow IMAP section numbering ("1", "2.1"...): a single-part message's
    only part is "1", the top-level container is "0", and the body of an attached
    message at "2" is "2.1" (single part) or "2.1", "2.2"... (multipart). ``samples``
    are the message's raw 8-bit header bytes, used if a part's charset is detected.
    """
    out = MimeContent(samples=samples)
    _walk_body(message, "", out, 0)
    return out
