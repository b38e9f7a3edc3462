"""Fidelity checks of parsed documents against the stdlib's reading of the same bytes.

Shared by ``tests/clean/test_corpus_fidelity.py`` (which asserts them over the whole
corpus) and ``bench/fidelity.py`` (which prints the figures in docs/fidelity.md).

The reference is ``email.message_from_bytes`` with the compat32 policy, the policy
mail-parser and MailAtlas parse with (``policy.default`` splits some broken boundaries
differently, and then "the same part" would not exist). Part paths follow IMAP section
numbering, as ``metadata.parts`` does: the body of an attached message at ``2`` is
``2.1`` (single part) or ``2.1``, ``2.2``... (multipart).

Each ``check_*`` function returns a list of problems (plain sentences); empty is good.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mailatlas_clean import ParseError, ParserConfig, iter_mbox, parse_bytes
from mailatlas_clean.parser._parse import parser_input
from mailatlas_core._model import ParsedDocument

__all__ = [
    "NO_CLEANING",
    "Case",
    "check_assets_byte_equal",
    "check_leaves_accounted",
    "check_no_binary_body",
    "check_no_mime_framing",
    "check_stored_where_recorded",
    "load_case",
    "read_corpus",
    "reference_leaves",
    "resolve_part",
]

MESSAGE_TYPES = ("message/rfc822", "message/global")
# Fidelity is about the parser: no cleaning rule may hide or explain a loss.
NO_CLEANING = ParserConfig(strip_invisible_chars=False, normalize_whitespace=False)
_BODY_TYPES = ("text/plain", "text/html")
_WORD = re.compile(r"[A-Za-z0-9]{4,}")
_MIME_LINE = re.compile(
    r"^(?:content-(?:type|transfer-encoding|disposition|id)|mime-version)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class Case:
    """One corpus message, parsed once: the document (or the ParseError) and the
    stdlib's tree of the same bytes."""

    rel: str
    raw: bytes
    doc: ParsedDocument | None
    error: str | None
    reference: Message
    leaves: dict[str, Message] = field(default_factory=dict)


def _body_children(message: Message) -> list[Message]:
    if message.is_multipart() and message.get_content_maintype() != "message":
        return [c for c in message.get_payload() if isinstance(c, Message)]
    return [message]


def _inner_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if part.get_content_type() in MESSAGE_TYPES and isinstance(payload, list) and payload:
        inner = payload[0]
        return inner if isinstance(inner, Message) else None
    return None


def _node_leaves(part: Message, path: str) -> Iterator[tuple[str, Message]]:
    inner = _inner_message(part)
    if inner is not None:
        for index, child in enumerate(_body_children(inner), 1):
            yield from _node_leaves(child, f"{path}.{index}")
    elif part.is_multipart() and part.get_content_maintype() != "message":
        for index, child in enumerate(_body_children(part), 1):
            yield from _node_leaves(child, f"{path}.{index}")
    else:
        yield path, part


def reference_leaves(message: Message) -> dict[str, Message]:
    """Every MIME leaf of the stdlib tree by its path (attached messages walked into;
    other ``message/*`` parts, like ``message/delivery-status``, are leaves)."""
    out: dict[str, Message] = {}
    for index, child in enumerate(_body_children(message), 1):
        out.update(_node_leaves(child, str(index)))
    return out


def resolve_part(message: Message, path: str) -> Message | None:
    """The stdlib part at ``path`` (leaf or container), or ``None`` if there is none
    (e.g. a part MailAtlas recovered from a multipart the stdlib could not split)."""
    children = _body_children(message)
    steps = path.split(".")
    node: Message | None = None
    for depth, step in enumerate(steps):
        index = int(step) - 1
        if not 0 <= index < len(children):
            return None
        node = children[index]
        if depth == len(steps) - 1:
            break
        inner = _inner_message(node)
        if inner is not None:
            children = _body_children(inner)
        elif node.is_multipart():
            children = [c for c in node.get_payload() if isinstance(c, Message)]
        else:
            return None
    return node


def reference_message(raw: bytes) -> Message:
    """The stdlib's tree of the bytes MailAtlas parses (``parser_input``: a BOM, leading
    blank lines and header lines that lost their fold indent repaired)."""
    try:
        data = parser_input(raw)
    except Exception:  # not a message at all: the ParseError is checked elsewhere
        data = raw
    return email.message_from_bytes(data, policy=email.policy.compat32)


def load_case(rel: str, raw: bytes, config: ParserConfig = NO_CLEANING) -> Case:
    reference = reference_message(raw)
    try:
        doc, error = parse_bytes(raw, config), None
    except ParseError as exc:
        doc, error = None, exc.reason
    return Case(rel, raw, doc, error, reference, reference_leaves(reference))


def read_corpus(root: Path) -> Iterator[tuple[str, bytes]]:
    """``(relative name, raw bytes)`` of every message in the corpus; an mbox message is
    named ``file.mbox#index``."""
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".mbox":
            for index, message in enumerate(iter_mbox(path)):
                yield f"{rel}#{index}", message.raw
        elif path.suffix in (".eml", ".msg"):
            yield rel, path.read_bytes()


def expected_asset_bytes(part: Message) -> bytes:
    """What the stdlib decodes for a part stored as an asset.

    An attached message is stored whole, as the stdlib writes it back; another
    ``message/*`` part (a delivery status...) as its body after its own header.
    """
    inner = _inner_message(part)
    if inner is not None:
        return bytes(inner.as_bytes())
    if part.is_multipart():
        data = part.as_bytes()
        sep = data.find(b"\n\n")
        return data[sep + 2 :] if sep != -1 else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _manifest(doc: ParsedDocument) -> dict[str, dict[str, Any]]:
    return {entry["part"]: entry for entry in doc.metadata["parts"]}


def check_leaves_accounted(case: Case) -> list[str]:
    """Every stdlib leaf has a manifest entry, and every entry is a stdlib leaf (or a
    part recovered from inside a multipart the stdlib left unsplit)."""
    assert case.doc is not None
    manifest = _manifest(case.doc)
    problems = []
    for path, part in case.leaves.items():
        if path in manifest:
            continue
        inside = [e for p, e in manifest.items() if p.startswith(path + ".")]
        if not any(e.get("recovered") for e in inside):
            problems.append(f"leaf {path} ({part.get_content_type()}) is not in metadata.parts")
    for path, entry in manifest.items():
        if path in case.leaves:
            continue
        owner = next((p for p in case.leaves if path.startswith(p + ".")), None)
        if not (entry.get("recovered") and owner):
            problems.append(f"metadata.parts lists {path}, which is no MIME leaf")
    return problems


def is_attachment(part: Message) -> bool:
    """A leaf the issue says must be an asset: named, attachment-disposed or not text."""
    ctype = part.get_content_type()
    if ctype.startswith("multipart/"):
        return False  # a multipart the stdlib could not split: framing, not a file
    if ctype not in _BODY_TYPES:
        return True
    try:
        named = bool(part.get_filename())
    except (LookupError, UnicodeError, ValueError, TypeError):
        named = False
    return named or part.get_content_disposition() == "attachment"


def check_assets_byte_equal(case: Case) -> tuple[int, list[str]]:
    """Every asset equals the stdlib's decoding of its part, and every attachment leaf
    is an asset. Returns how many assets were compared, and the problems."""
    assert case.doc is not None
    problems = []
    compared = 0
    sources = case.doc.metadata["asset_parts"]
    for asset, source in zip(case.doc.assets, sources, strict=True):
        part = resolve_part(case.reference, source["part"])
        if part is None:
            continue  # recovered from a broken multipart: the stdlib has no such part
        compared += 1
        if asset.data != expected_asset_bytes(part):
            problems.append(f"asset {asset.filename} ({source['part']}) differs from the stdlib")
        if asset.mime_type != part.get_content_type():
            problems.append(f"asset {asset.filename}: type {asset.mime_type}")
    manifest = _manifest(case.doc)
    for path, part in case.leaves.items():
        entry = manifest.get(path)
        if entry is not None and is_attachment(part) and entry["stored_as"] != "asset":
            problems.append(f"leaf {path} ({part.get_content_type()}) is {entry['stored_as']}")
    return compared, problems


class _Text(HTMLParser):
    """The visible text of HTML (what survives sanitising: no style, script, head)."""

    _HIDDEN = ("style", "script", "title", "head", "template", "noscript")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def _html_words(markup: str) -> set[str]:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return set(_WORD.findall(" ".join(parser.chunks)))


def _leaf_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def check_stored_where_recorded(case: Case) -> list[str]:
    """Each manifest entry's bytes are where it says: an asset that exists, the words of
    a text leaf in ``body_text``, of an HTML leaf in the stored HTML, a twin that is
    stored, an attached message stored whole."""
    doc = case.doc
    assert doc is not None
    manifest = _manifest(doc)
    body_words = set(_WORD.findall(doc.body_text))
    html_words = _html_words(doc.body_html or "")
    sources = doc.metadata["asset_parts"]
    problems = []
    for path, entry in manifest.items():
        where = entry["stored_as"]
        part = case.leaves.get(path)
        if where in ("asset", "attached_message"):
            ordinal = entry.get("asset")
            if ordinal is None or not 0 <= ordinal < len(doc.assets):
                problems.append(f"{path}: {where} without a stored asset")
            elif where == "attached_message" and not path.startswith(
                sources[ordinal]["part"] + "."
            ):
                problems.append(f"{path}: not inside the attached message it names")
            continue
        if where == "alternative":
            twin = manifest.get(entry.get("twin") or "")
            if twin is None or twin["stored_as"] not in ("body_text", "body_html"):
                problems.append(f"{path}: alternative of {entry.get('twin')}, which is not stored")
            continue
        if part is None:
            continue  # recovered: its text has no stdlib counterpart to compare with
        text = _leaf_text(part)
        if entry["content_type"] == "text/html":
            words = _html_words(text)
        else:
            words = set(_WORD.findall(text))
        found = html_words if where == "body_html" else body_words
        if where == "body_text" and entry["content_type"] == "text/html":
            found = body_words
        missing = words - found
        if missing:
            sample = sorted(missing)[:5]
            problems.append(f"{path}: {len(missing)} word(s) missing from {where}: {sample}")
    return problems


def _boundaries(case: Case) -> set[str]:
    found = set()
    for part in case.reference.walk():
        boundary = part.get_boundary()
        if boundary:
            found.add(boundary.strip())
    for defect in case.doc.metadata["defects"] if case.doc else []:
        match = re.search(r"with the boundary its body uses \('(.*)'\)", defect)
        if match:
            found.add(match.group(1))
    return found


def check_no_mime_framing(case: Case) -> list[str]:
    """No MIME header line and no boundary line in ``body_text``."""
    assert case.doc is not None
    text = case.doc.body_text
    problems = [f"MIME header line in body_text: {m.group(0)!r}" for m in _MIME_LINE.finditer(text)]
    lines = {line.strip() for line in text.splitlines() if line.startswith("--")}
    for boundary in _boundaries(case):
        for marker in (f"--{boundary}", f"--{boundary}--"):
            if marker in lines:
                problems.append(f"boundary line in body_text: {marker!r}")
    return problems


_BINARY_MARKS = re.compile(r"GIF8[79]a|\x89PNG|JFIF|%PDF-|[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def check_no_binary_body(case: Case) -> list[str]:
    """No file signature and no C0 control character in ``body_text``."""
    assert case.doc is not None
    found = _BINARY_MARKS.search(case.doc.body_text)
    return [f"binary content in body_text: {found.group(0)!r}"] if found else []
