"""Identity: normalised Message-IDs, content hashes, fingerprints and content-derived ids.

Ids depend only on the message, never on the cleaning flags, so the same message gets
the same id in every store. One exception, by necessity: when two *different* messages
claim one Message-ID, the one stored second gets :func:`conflict_document_id`.

A Message-ID is a claim made by the sender, so it is trusted for de-duplication only
together with a :class:`Fingerprint` of what a copy of the same message keeps wherever
it is delivered: its Date, From and Subject headers and its body bytes. Relays and
folders add or change Received, Delivered-To, X-* and the like; those are not part of
it. See docs/reliability.md ("Two messages with one Message-ID").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "IDENTITY_FIELDS",
    "UTF8_BOM",
    "Fingerprint",
    "conflict_document_id",
    "content_hash",
    "document_id",
    "fingerprint",
    "header_block",
    "headers_hash",
    "normalize_message_id",
    "thread_id_for",
]

_WS = re.compile(r"\s+")
_WS_BYTES = re.compile(rb"\s+")
UTF8_BOM = b"\xef\xbb\xbf"  # the one home of the UTF-8 byte order mark MailAtlas skips
_BLANK_LINE = re.compile(rb"\n\r?\n")
# The header fields a copy of a message keeps wherever it is delivered (with the body).
IDENTITY_FIELDS = ("date", "from", "subject")
_IDENTITY_FIELD = re.compile(
    rb"^(date|from|subject)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE
)


def normalize_message_id(value: str | bytes | None) -> str | None:
    """Normalise a Message-ID header value: unfold, drop whitespace and angle brackets.

    Returns ``None`` for an absent or empty value. When several ids are present (broken
    mailers), the first ``<...>`` group wins.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = _WS.sub("", value)
    if "<" in value:
        start = value.index("<") + 1
        end = value.find(">", start)
        value = value[start:] if end == -1 else value[start:end]
    value = value.strip("<>")
    return value or None


def _sha256_hex(data: bytes) -> str:
    # hashlib loads OpenSSL (milliseconds): imported on first use, not by `list`/`show`.
    import hashlib

    return hashlib.sha256(data).hexdigest()


def content_hash(raw: bytes) -> str:
    """The sha256 of the exact raw message bytes (hex)."""
    return _sha256_hex(raw)


def _split(raw: bytes) -> tuple[int, int, int]:
    """Offsets: where the header block starts and ends, and where the body starts."""
    start = 3 if raw.startswith(UTF8_BOM) else 0
    if raw.startswith(b"From ", start):
        newline = raw.find(b"\n", start)
        start = len(raw) if newline == -1 else newline + 1
    # One pass that stops at the first empty line, CRLF or LF (two bytes.find calls, one
    # per style, each read the whole message when it uses the other style).
    blank = _BLANK_LINE.search(raw, start)
    if blank is None:
        return start, len(raw), len(raw)
    end = blank.start()
    if end > start and raw[end - 1] == 0x0D:  # the CR of the last header line's CRLF
        end -= 1
    return start, end, blank.end()


def header_block(raw: bytes) -> bytes:
    """The header block of ``raw``: everything before the first empty line.

    A leading UTF-8 BOM and an mbox ``From `` envelope line are skipped.
    """
    start, end, _ = _split(raw)
    return raw[start:end]


def header_view(raw: bytes) -> memoryview:
    """:func:`header_block` as a view of ``raw``, not a copy (a header block can be
    most of a message: one of 8 MB of fields), for searches with ``re``."""
    start, end, _ = _split(raw)
    return memoryview(raw)[start:end]


def headers_hash(header: bytes | memoryview) -> str:
    """The hash of a header block's Date, From and Subject (first of each), normalised.

    Folding and runs of white space do not count, so the same fields fetched alone
    (IMAP ``BODY[HEADER.FIELDS (DATE FROM SUBJECT)]``) hash the same as in the message.
    """
    found: dict[bytes, bytes] = {}
    for match in _IDENTITY_FIELD.finditer(header):
        found.setdefault(match.group(1).lower(), match.group(2))
    parts = [_WS_BYTES.sub(b" ", found.get(f.encode(), b"")).strip() for f in IDENTITY_FIELDS]
    return _sha256_hex(b"\n".join(parts))[:32]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What makes two copies of a message with one Message-ID the same message."""

    headers: str  # headers_hash of Date, From, Subject
    body: str  # sha256 of the body bytes, line ends unified, trailing white space dropped

    def __str__(self) -> str:
        return f"{self.headers}:{self.body}"


_CHUNK = 1 << 20


def _body_hash(raw: bytes, start: int) -> str:
    """sha256 of ``raw[start:]`` with CRLF read as LF and trailing white space dropped.

    Streams in 1 MB pieces: a fingerprint never holds a second copy of a big message.
    """
    import hashlib

    end = len(raw)
    while end > start:  # trailing white space, a block at a time (linear, bounded)
        block = raw[max(start, end - _CHUNK) : end]
        kept = len(block.rstrip())
        end -= len(block) - kept
        if kept:
            break
    digest = hashlib.sha256()
    view = memoryview(raw)
    carry = b""
    for pos in range(start, end, _CHUNK):
        piece = carry + bytes(view[pos : min(pos + _CHUNK, end)])
        carry = b"\r" if piece.endswith(b"\r") else b""
        digest.update((piece[:-1] if carry else piece).replace(b"\r\n", b"\n"))
    digest.update(carry)
    return digest.hexdigest()[:32]


def fingerprint(raw: bytes) -> Fingerprint:
    """The :class:`Fingerprint` of a raw message (no MIME parse, no copy of the body)."""
    start, end, body = _split(raw)
    return Fingerprint(headers_hash(memoryview(raw)[start:end]), _body_hash(raw, body))


def document_id(message_id: str | None, raw_hash: str) -> str:
    """The document id: derived from the normalised Message-ID, else from the raw hash.

    This is also the dedupe key, so a re-ingested message always maps to the same id.
    """
    key = f"mid:{message_id}" if message_id else f"sha256:{raw_hash}"
    return _sha256_hex(key.encode("utf-8", "surrogatepass"))[:32]


def conflict_document_id(message_id: str, print_: Fingerprint) -> str:
    """The id of a message whose Message-ID an earlier, different message already has."""
    return _sha256_hex(f"mid:{message_id}|{print_}".encode("utf-8", "surrogatepass"))[:32]


def thread_id_for(
    message_id: str | None, references: tuple[str, ...], in_reply_to: str | None, fallback: str
) -> str:
    """A thread id: the root of ``References``, else ``In-Reply-To``, else the message itself.

    The store links threads further when a parent is already stored (see ``Store.add``).
    """
    root = references[0] if references else in_reply_to or message_id
    key = f"thread:{root}" if root else f"thread:{fallback}"
    return _sha256_hex(key.encode("utf-8", "surrogatepass"))[:32]
