"""``parse_eml`` / ``parse_bytes``: raw bytes in, one ``ParsedDocument`` out.

Everything unexpected inside a message becomes a defect note on a best-effort document;
only input that is not an email at all raises :class:`ParseError`.
"""

from __future__ import annotations

import os
import re
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import Message

from mailatlas_core import (
    UTF8_BOM,
    AssetPart,
    BodySource,
    DocumentMetadata,
    ParsedDocument,
    content_hash,
    document_id,
    fingerprint,
    thread_id_for,
)

from .._config import MB, ParserConfig
from .._errors import ParseError
from ..attachments import read_texts
from ..cleaning import clean_text
from ..cleaning._forwarded import original_author_and_date
from ..cleaning._mailbox import format_mailbox
from ._assets import build_assets
from ._feedparser import BytesFeedParser
from ._forward import forwarded_text
from ._header_budget import MAX_HEADER_BYTES, bounded_block
from ._headers import HeaderView
from ._html import rewrite_cids, sanitize_html
from ._html_text import html_to_text
from ._keyshare import KeySharing
from ._mime import walk_message
from ._multipart import header_block_end, read_tree
from ._part_budget import PartBudget
from ._peek import FIELD_LINE as _FIELD_LINE
from ._peek import KNOWN_FIELD as _KNOWN_FIELD
from ._peek import peek_message_id, sniff_not_email

__all__ = ["parse_bytes", "parse_eml", "parser_input"]

_FEED_SLICE = 1 << 20
# A message at least this large is read by offset (``_multipart``, ``_rawbody``).
_DIRECT_BODY = 1 << 16
_SPACED_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]+:")
_LOST_FOLD = re.compile(rb"^[^ \t\r\n]")  # not blank, not indented
_ASSET_PARTS = KeySharing("AssetPart")


def _skip_damaged_lines(data: bytes, defects: list[str]) -> bytes:
    """Drop lines before the first well-formed header line (the stdlib parser would
    otherwise read a damaged first line as the start of the body)."""
    if data.startswith(b"From ") or _FIELD_LINE.match(data):
        return data
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end == -1 or data[offset:end].strip() == b"":
            return data  # no header line before the blank line: leave it as it is
        offset = end + 1
        if _FIELD_LINE.match(data[offset : offset + 1000]):  # "^" ignores match(pos)
            defects.append("the first header line is malformed; it was skipped")
            return data[offset:]
    return data


def _feed(data: bytes, *, by_offset: bool = False) -> Message:
    """``email.message_from_bytes(data)``, fed in slices.

    The same parser and policy (compat32 keeps raw header bytes), but without the
    whole-message ``str`` and the ``StringIO`` (four bytes a character) that
    ``message_from_bytes`` builds: a 280 MB message peaked at 2.4 GB that way.
    A message of 64 KB or more is read by offset (:mod:`._multipart`): only its header
    blocks go through the parser, its leaves keep their bodies as raw bytes (as spans
    of ``data`` itself with ``by_offset``: when ``data`` is the raw message, kept anyway).
    """
    if len(data) >= _DIRECT_BODY:
        tree = read_tree(data, by_offset=by_offset)  # with a PartBudget of its own
        if tree is not None:
            return tree
    parser = BytesFeedParser()
    parser.part_budget = PartBudget(len(data))  # see _part_budget
    view = memoryview(data)
    for start in range(0, len(data), _FEED_SLICE):
        parser.feed(bytes(view[start : start + _FEED_SLICE]))
    return parser.close()


def _repair_header_lines(data: bytes) -> bytes | None:
    """Repair the header lines the stdlib stops at, or ``None`` if there are none.

    The stdlib ends the header block at the first line that is neither a field nor a
    continuation, so everything after it, ``Content-Type`` included, became body text.
    Two such lines are common: a field with space before its colon (``Subject :``,
    obsolete syntax RFC 5322 still allows), and a header wrapped without its folding
    indent by a gateway (a DKIM signature, a ``Received`` trace). The first loses the
    space; the second is indented again, but only when well-known fields follow it.
    """
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i != -1]
    end = min(ends) if ends else len(data)
    lines = data[:end].split(b"\n")
    # The last well-known field (Content-Type, Subject, X-...): "Note: ..." in a body
    # that lost its blank separator line must not pull body lines into the header.
    last_field = max((i for i, line in enumerate(lines) if _KNOWN_FIELD.match(line)), default=0)
    changed = False
    for index in range(last_field + 1):
        line = lines[index]
        spaced = _SPACED_FIELD.match(line)
        if spaced is not None:
            lines[index] = spaced.group(1) + b":" + line[spaced.end() :]
            changed = True
        elif 0 < index < last_field and _LOST_FOLD.match(line) and not _FIELD_LINE.match(line):
            lines[index] = b" " + line
            changed = True
    return b"\n".join(lines) + data[end:] if changed else None


def _bound_header_block(data: bytes, defects: list[str]) -> bytes:
    """``data`` with its header block cut to :data:`MAX_HEADER_BYTES` (:mod:`._header_budget`);
    ``data`` itself when it is within that (a message under 1 MB, or with a blank line in
    its first MB: two bounded searches)."""
    if len(data) <= MAX_HEADER_BYTES or any(
        data.find(blank, 0, MAX_HEADER_BYTES) >= 0 for blank in (b"\n\n", b"\n\r\n")
    ):
        return data
    head_end = header_block_end(data, 0, len(data))
    block, skipped = bounded_block(data, 0, head_end)
    if not skipped:
        return data
    defects.append(
        f"the header block is {head_end / MB:.1f} MB: {skipped / MB:.1f} MB of its fields"
        f" beyond the first {MAX_HEADER_BYTES // MB} MB were not parsed (the raw message"
        " keeps them)"
    )
    return block + data[head_end:]


def _prepare(raw: bytes, defects: list[str]) -> tuple[Message, bytes]:
    """The stdlib's tree of ``raw`` and the exact bytes it was read from."""
    data = raw[3:] if raw.startswith(UTF8_BOM) else raw
    # Leading blank lines (or a stray indent) would turn every header into body text.
    data = _skip_damaged_lines(data.lstrip(b" \t\r\n"), defects)
    data = _bound_header_block(data, defects)
    message = _feed(data, by_offset=data is raw)
    if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in message.defects):
        repaired = _repair_header_lines(data)
        if repaired is not None:
            defects.append(
                "malformed header lines were repaired (a space before the colon, a lost fold)"
            )
            data = repaired
            message = _feed(data)
    return message, data


def parser_input(raw: bytes) -> bytes:
    """The bytes MailAtlas hands the stdlib parser for ``raw`` (BOM, leading blank or
    damaged lines and lost header folds repaired): the reference for fidelity tests."""
    return _prepare(raw, [])[1]


def _message_from_bytes(raw: bytes, defects: list[str]) -> Message:
    try:
        return _prepare(raw, defects)[0]
    except RecursionError as exc:
        raise ParseError("the message is nested too deeply to parse") from exc
    except (LookupError, UnicodeError, ValueError, TypeError) as exc:
        # e.g. a NUL inside an RFC 2231 boundary parameter breaks the stdlib parser.
        raise ParseError(f"the MIME structure could not be read ({exc})") from exc


def _blank(text: str) -> bool:
    """``not text.strip()``, without copying a large text."""
    return not text or text.isspace()


def _trim(text: str, chars: str) -> str:
    """``text.strip(chars)``, without a copy when there is nothing to strip."""
    if text[:1] in chars or text[-1:] in chars:
        return text.strip(chars)
    return text


def _body(plain: list[str], html: list[str], defects: list[str]) -> str:
    # Copies are avoided: a body is often most of the message, and one text part
    # (the usual case) comes back as the very same str ("".join of one item).
    if not all(_blank(p) for p in plain):
        return "\n\n".join([_trim(p, "\r\n") for p in plain if not _blank(p)])
    texts = []
    for markup in html:
        text, note = html_to_text(markup, strip_newlines=True)  # no strip copy below
        if note:
            defects.append(note)
        if not _blank(text):
            texts.append(_trim(text, "\n"))
    return "\n\n".join(texts)


def _envelope_of(message: Message, envelope: str | None) -> str | None:
    if envelope:
        return envelope
    unixfrom = message.get_unixfrom()
    return unixfrom.rstrip("\r\n") if unixfrom else None


def _build(
    raw: bytes, config: ParserConfig, received_at: str | None, envelope: str | None
) -> ParsedDocument:
    reason = sniff_not_email(raw)
    if reason is not None:
        raise ParseError(reason)
    # Hashed first, while the raw bytes are all a message holds: its 1 MB pieces would
    # otherwise be made beside every part's objects at the parse's peak.
    raw_print = fingerprint(raw)
    parse_defects: list[str] = []
    message = _message_from_bytes(raw, parse_defects)
    headers = HeaderView(message)
    raw_hash = content_hash(raw)
    # Read from the raw header block, like peek_message_id, so the two always agree
    # (the stdlib parser stops at the first malformed header line; this does not).
    message_id = peek_message_id(raw)
    doc_id = document_id(message_id, raw_hash)
    content = walk_message(message, headers.legacy_bytes)
    # The tree is read: drop it (one object per part and header, most of a message of
    # many small parts) before the assets' texts are read and the document is built.
    env = _envelope_of(message, envelope)
    del message
    defects = parse_defects + content.defects
    assets, cid_targets = build_assets(content.assets, doc_id)

    body_html: str | None = None
    blocked = 0
    plain = [p.text for p in content.plain]
    if content.html:
        # Each intermediate is dropped as soon as the next exists (peak memory).
        joined = "\n".join([p.text for p in content.html])
        for part in content.html:
            part.text = ""
        rewritten, missing = rewrite_cids(joined, cid_targets)
        del joined
        defects.extend(f"cid:{cid} matches no part of the message" for cid in missing)
        body_html, blocked = sanitize_html(rewritten, frozenset(cid_targets.values()))
        del rewritten
    body_source: BodySource = "text/html" if all(_blank(p) for p in plain) else "text/plain"
    if body_html is not None and body_source == "text/html":
        text = _body([], [body_html], defects)
    else:
        text = _body(plain, [], defects)
    for part in content.plain:
        part.text = ""
    del plain
    forwarded_from: list[str] = []
    if _blank(text) and content.forwarded:
        # Forwarded as an attachment, with nothing of its own to say: the text of the
        # attached messages is the body, under a forwarded-message header block.
        text, forwarded_from = forwarded_text(
            content.forwarded, lambda h: _body([], [sanitize_html(h)[0]], defects)
        )
        if forwarded_from:
            body_source = "message/rfc822"
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\r" in text:
        # Line ends as clean_text would make them, but here, where the CRLF text is let
        # go as soon as the copy exists: in clean_text this frame's reference would keep
        # both to the end (CRLF is what IMAP serves: one body's size more at a sync's peak).
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = clean_text(text, config)
    del text

    references = headers.references
    in_reply_to = headers.in_reply_to
    date_iso, date_offset, date_original = headers.date()
    senders = headers.addresses("from") or headers.addresses("sender")
    sender = senders[0] if senders else None
    chain = cleaned.forwarded_chain
    author, published_at = (None, None)
    if chain:
        author, published_at = original_author_and_date(chain)
    if author is None and sender is not None:
        author = format_mailbox(sender["name"], sender["email"])
    published_at = published_at or date_iso
    metadata: DocumentMetadata = {
        "provenance": {
            "is_forwarded": bool(chain or forwarded_from),
            "forwarded_chain": chain,
            "forwarded_attachments": forwarded_from,
        },
        "cleaning": cleaned.cleaning,
        "parser_config": config.to_dict(),
        "recipients": headers.recipients(),
        "dates": {"date": date_original, "utc": date_iso, "offset": date_offset},
        "defects": defects + headers.defects,
        "links": cleaned.links,
        "in_reply_to": in_reply_to,
        "references": list(references),
        "attached_messages": content.attached_messages,
        "body_source": body_source if (content.plain or content.html or forwarded_from) else None,
        "asset_parts": [
            _ASSET_PARTS.shared(
                AssetPart(filename=a.filename, part=found.part, message=found.message)
            )
            for a, found in zip((a for a, _p in assets), content.assets, strict=True)
        ],
        "parts": content.take_manifest(),
        "remote_images_blocked": blocked,
    }
    if env:
        metadata["envelope"] = env
    # The walk's records (one set per part, most of a message of many small parts) are
    # in the metadata now: let them go before the assets' texts are read.
    del content
    asset_data = [asset for asset, _part in assets]
    del assets
    return ParsedDocument(
        id=doc_id,
        raw=raw,
        content_hash=raw_hash,
        message_id=message_id,
        thread_id=thread_id_for(message_id, references, in_reply_to, raw_hash),
        subject=headers.subject,
        sender_name=(sender["name"] or None) if sender else None,
        sender_email=(sender["email"] or None) if sender else None,
        author=author,
        received_at=received_at or headers.newest_received() or date_iso,
        published_at=published_at,
        body_text=cleaned.text,
        body_html=body_html,
        metadata=metadata,
        assets=read_texts(asset_data, config, len(raw)),
        in_reply_to=in_reply_to,
        references=references,
        fingerprint=raw_print,
    )


def parse_bytes(
    raw: bytes,
    parser_config: ParserConfig | None = None,
    *,
    received_at: str | None = None,
    envelope: str | None = None,
) -> ParsedDocument:
    """Parse and clean one message from its raw bytes.

    Args:
        raw: the exact message bytes; kept byte-for-byte as ``ParsedDocument.raw``.
        parser_config: the cleaning flags (defaults: ``ParserConfig()``).
        received_at: UTC ISO time the message arrived (e.g. IMAP INTERNALDATE). When
            ``None``, the newest ``Received:`` date is used, else the ``Date:`` header.
        envelope: the mbox ``From `` line the message was stored under, if any.

    Returns:
        The parsed document with its assets, not yet stored.

    Raises:
        ParseError: the input is not an email message (empty, binary, Outlook .msg...).
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_bytes needs bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    config = parser_config or ParserConfig()
    try:
        return _build(raw, config, received_at, envelope)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the message is nested too deeply to parse") from exc
    except Exception as exc:
        raise ParseError(f"the message could not be parsed ({type(exc).__name__}: {exc})") from exc


def parse_eml(
    path_or_bytes: str | os.PathLike[str] | bytes,
    parser_config: ParserConfig | None = None,
    *,
    received_at: str | None = None,
    envelope: str | None = None,
) -> ParsedDocument:
    """Parse and clean one ``.eml`` file (or raw bytes).

    Args:
        path_or_bytes: a path to an ``.eml`` file, or the raw message bytes.
        parser_config: the cleaning flags (defaults: ``ParserConfig()``).
        received_at: see :func:`parse_bytes`.
        envelope: see :func:`parse_bytes`.

    Raises:
        ParseError: the file cannot be read or is not an email message.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return parse_bytes(
            bytes(path_or_bytes), parser_config, received_at=received_at, envelope=envelope
        )
    path = os.fspath(path_or_bytes)
    try:
        with open(path, "rb") as fp:
            raw = fp.read()
    except OSError as exc:
        raise ParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_bytes(raw, parser_config, received_at=received_at, envelope=envelope)
