"""Forwarded and quoted header blocks (Gmail, Apple Mail, Outlook, Thunderbird).

A block is a marker line followed by ``Field: value`` lines, or (Outlook without a
marker) at least ``From:``, ``Sent:``/``Date:`` and ``Subject:`` on consecutive lines.
Every block in the chain is found; the outermost comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from mailatlas_core import parse_mail_date, to_utc_iso

from ._mailbox import format_mailbox

__all__ = ["ForwardBlock", "find_forwarded_blocks", "original_author_and_date"]

_MARKERS = (
    ("gmail", re.compile(r"^-{2,}\s*Forwarded message\s*-{2,}$", re.IGNORECASE)),
    ("thunderbird", re.compile(r"^-{2,}\s*Forwarded Message\s*-{2,}$", re.IGNORECASE)),
    ("outlook", re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.IGNORECASE)),
    ("apple", re.compile(r"^Begin forwarded message\s*:$", re.IGNORECASE)),
    ("outlook", re.compile(r"^_{10,}$")),
)
_FIELD = re.compile(
    r"^\s*\**(From|Sent|Date|To|Cc|Bcc|Subject|Reply-To)\**\s*:\**\s*(.*?)\s*$", re.IGNORECASE
)
_MAX_FIELDS = 8


@dataclass(frozen=True, slots=True)
class ForwardBlock:
    """Lines ``start`` (inclusive) to ``end`` (exclusive) and the fields they held."""

    start: int
    end: int
    headers: dict[str, str]


def _marker_style(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped[0] not in "-_B":
        return None
    for style, pattern in _MARKERS:
        if pattern.match(stripped):
            return style
    return None


def _read_fields(lines: list[str], index: int) -> tuple[dict[str, str], int]:
    fields: dict[str, str] = {}
    while index < len(lines) and len(fields) < _MAX_FIELDS:
        match = _FIELD.match(lines[index])
        if match is None:
            break
        name = match.group(1).lower()
        name = "date" if name == "sent" else name.replace("-", "_")
        fields.setdefault(name, match.group(2))
        index += 1
    return fields, index


def find_forwarded_blocks(lines: list[str]) -> list[ForwardBlock]:
    """Find every forwarded/original-message header block in ``lines``."""
    blocks: list[ForwardBlock] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        style = _marker_style(line)
        if style is not None:
            start = index
            cursor = index + 1
            while cursor < len(lines) and not lines[cursor].strip() and cursor - index < 3:
                cursor += 1
            fields, end = _read_fields(lines, cursor)
            if "from" in fields and len(fields) >= 2:
                if end < len(lines) and not lines[end].strip():
                    end += 1  # the blank line that closes the block goes with it
                blocks.append(ForwardBlock(start, end, {"style": style, **fields}))
                index = end
                continue
        elif line.lstrip().lower().startswith(("from:", "*from:*", "**from:**")):
            fields, end = _read_fields(lines, index)
            if {"from", "date", "subject"} <= fields.keys():
                if end < len(lines) and not lines[end].strip():
                    end += 1
                blocks.append(ForwardBlock(index, end, {"style": "outlook", **fields}))
                index = end
                continue
        index += 1
    return blocks


_DATE_FORMATS = (
    "%a, %b %d, %Y at %I:%M %p",  # Gmail: Mon, Jan 8, 2024 at 9:15 AM
    "%a, %b %d, %Y, %I:%M %p",
    "%A, %B %d, %Y %I:%M %p",  # Outlook: Monday, January 8, 2024 9:15 AM
    "%A, %B %d, %Y at %I:%M %p",
    "%B %d, %Y at %I:%M:%S %p",  # Apple Mail (zone suffix dropped below)
    "%B %d, %Y at %I:%M %p",
    "%d %B %Y at %H:%M",
    "%m/%d/%Y %I:%M %p",
)
# "GMT", "GMT+1", "CEST" after an Apple Mail date; never the AM/PM of the time itself.
# Blank runs are matched from their first blank only, and whole (linear on long runs).
_ZONE_SUFFIX = re.compile(r"(?<!\s)\s++(?!(?:AM|PM)$)[A-Z]{2,5}(?:[+-]\d{1,2}(?::?\d{2})?)?$")


_MERIDIEM = re.compile(r"(?<!\s)\s*+\b([AaPp])\.?[Mm]\.?(?=\s|$)")


def _parse_loose_date(value: str) -> str | None:
    text = value.replace("\u202f", " ").strip()
    meridiem = _MERIDIEM.search(text)
    if meridiem is None:
        iso, _offset = parse_mail_date(text)
        if iso:
            return iso
    # The RFC 5322 reader accepts "10:23 PM" and drops the PM: 12-hour times never go
    # to it with their AM/PM still attached.
    bare = _ZONE_SUFFIX.sub("", text)
    for fmt in _DATE_FORMATS:
        try:
            return to_utc_iso(datetime.strptime(bare, fmt))
        except ValueError:
            continue
    if meridiem is not None:
        return _with_meridiem(_MERIDIEM.sub("", text, count=1), meridiem.group(1).upper())
    return None


def _with_meridiem(text: str, meridiem: str) -> str | None:
    """An RFC 5322-like date written with a 12-hour clock (``Mon, 8 Jan 2024 10:23 PM``)."""
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or not 1 <= when.hour <= 12:
        return None
    hour = when.hour % 12 + (12 if meridiem == "P" else 0)
    return to_utc_iso(when.replace(hour=hour))


def _split_mailbox(text: str) -> tuple[str, str]:
    """(name, address) of a forwarded ``From:`` value; either may be empty.

    ``Name <a@b>`` is split by hand (linear time, and the name may hold commas, as in
    Outlook's ``Doe, Jane [mailto:jane@example.com]``, which parseaddr reads as a list).
    """
    text = text.replace("[mailto:", "<").replace("]", ">").strip()
    if text.endswith(">") and "<" in text:
        name, _, address = text[:-1].rpartition("<")
        address = address.strip()
        if "@" in address and not any(ch in address for ch in '<>" \t'):
            return name.strip().strip('"').strip(), address
    name, address = parseaddr(text)
    if "@" in address:
        return name, address
    return text, ""  # a name alone (Outlook often hides the address)


def original_author_and_date(chain: list[dict[str, str]]) -> tuple[str | None, str | None]:
    """Author and UTC date of the innermost (original) message in a forward chain."""
    for block in reversed(chain):
        sender = block.get("from", "")
        if not sender:
            continue
        name, address = _split_mailbox(sender)
        author = format_mailbox(name, address) or sender
        date = block.get("date")
        return author, _parse_loose_date(date) if date else None
    return None, None
