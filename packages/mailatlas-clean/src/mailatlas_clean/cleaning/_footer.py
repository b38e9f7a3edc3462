"""Footers: cut the trailing part of a message at a clear footer marker.

Markers: the ``-- `` signature delimiter, an unsubscribe/"you are receiving this" line,
a copyright line with a year or "All rights reserved". A marker is only a footer when
what follows it is footer too, so the cut never removes the writer's own words:

* a quoted line (``> ...``) is never a marker: a list footer quoted above a bottom-posted
  reply (``> To unsubscribe, visit ...`` then ``+1 from me.``) is part of the quote;
* an unsubscribe or copyright marker cuts only when every paragraph after its own holds
  a marker too (``Unsubscribe | Preferences``, ``© 2024 Example Ltd``);
* a signature (``-- ``) cuts only when nothing quoted follows it and it is at most
  :data:`MAX_SIGNATURE_LINES` lines long (RFC 3676 signatures run to the end; a long
  tail after ``--`` is more likely text);
* the cut never starts in the first half of the message (counted in non-blank lines) and
  never at a list item such as "(c) third item" (no year, or a sibling "(b)"/"(d)" item).

When a marker fails these tests the next one is tried; with none left, nothing is cut.
"""

from __future__ import annotations

import re

from ._scan import lines_with_keywords

__all__ = ["MAX_SIGNATURE_LINES", "cut_footer", "find_footer_start"]

MAX_SIGNATURE_LINES = 15
_SIGNATURE = re.compile(r"^-- ?$")
_UNSUBSCRIBE = re.compile(
    r"\bunsubscribe\b|\bopt[ -]out\b|^you (?:are )?receiv(?:ed|ing) this"
    r"|if you (?:no longer|do not) wish to receive|to stop receiving",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright)\s*(?:©\s*|\(c\)\s*)?(?:(?:19|20)\d{2}\b)"
    r"|\ball rights reserved\b",
    re.IGNORECASE,
)
# Every marker needs one of these (lower-case); "--" finds the signature delimiter.
_KEYWORDS = (
    "--", "unsubscribe", "opt out", "opt-out", "receiv", "wish to receive", "©", "(c)",
    "copyright", "all rights reserved",
)  # fmt: skip
_LETTER_ITEM = re.compile(r"^\s*\(?[a-z]\)\s")


def _is_quoted(line: str) -> bool:
    return line.lstrip(" \t").startswith(">")


def _is_list_item(lines: list[str], index: int) -> bool:
    if not _LETTER_ITEM.match(lines[index]):
        return False
    neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    return any(_LETTER_ITEM.match(n) for n in neighbours)


def _is_text_marker(line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 300 or _is_quoted(line):
        return False
    return bool(_UNSUBSCRIBE.search(stripped) or _COPYRIGHT.search(stripped))


def _paragraph_start(lines: list[str], index: int) -> int:
    while index > 0 and lines[index - 1].strip():
        index -= 1
    return index


def _paragraph_end(lines: list[str], index: int) -> int:
    while index < len(lines) and lines[index].strip():
        index += 1
    return index


def _signature_fits(lines: list[str], index: int) -> bool:
    tail = [line for line in lines[index + 1 :] if line.strip()]
    return len(tail) <= MAX_SIGNATURE_LINES and not any(_is_quoted(line) for line in tail)


def _rest_is_footer(lines: list[str], index: int) -> bool:
    """Every paragraph after the one holding line ``index`` holds a marker too."""
    cursor = _paragraph_end(lines, index)
    while cursor < len(lines):
        if not lines[cursor].strip():
            cursor += 1
            continue
        end = _paragraph_end(lines, cursor)
        if not any(_is_text_marker(line) for line in lines[cursor:end]):
            return False
        cursor = end
    return True


def find_footer_start(lines: list[str]) -> int | None:
    """Index of the first footer line, or ``None`` when there is no clear footer."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return None
    half = content[(len(content) + 1) // 2] if len(content) > 2 else content[-1]
    for index in sorted(lines_with_keywords(lines, _KEYWORDS, half)):
        if _SIGNATURE.match(lines[index]):
            if _signature_fits(lines, index):
                return index
            continue
        if _is_list_item(lines, index) or not _is_text_marker(lines[index]):
            continue
        if _rest_is_footer(lines, index):
            start = _paragraph_start(lines, index)
            return start if start >= half else index
    return None


def cut_footer(lines: list[str]) -> tuple[list[str], list[str]]:
    """Drop the footer; returns the kept lines and the removed ones (trailing blank
    lines, which are whitespace and not footer, are not counted)."""
    start = find_footer_start(lines)
    if start is None:
        return lines, []
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[:start], lines[start:end]
