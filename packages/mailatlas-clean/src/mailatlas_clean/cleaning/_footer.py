"""Footers: cut the trailing part of a message at a clear footer marker.

Markers: the ``-- `` signature delimiter, an unsubscribe/"you are receiving this" line,
a copyright line with a year or "All rights reserved". The cut never starts in the first
half of the message (counted in non-blank lines) and never at a list item such as
"(c) third item" (no year, or a sibling "(b)"/"(d)" item next to it).
"""

from __future__ import annotations

import re

from ._scan import lines_with_keywords

__all__ = ["cut_footer", "find_footer_start"]

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


def _is_list_item(lines: list[str], index: int) -> bool:
    if not _LETTER_ITEM.match(lines[index]):
        return False
    neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    return any(_LETTER_ITEM.match(n) for n in neighbours)


def _is_marker(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SIGNATURE.match(line):
        return True
    stripped = line.strip()
    if not stripped or len(stripped) > 300 or _is_list_item(lines, index):
        return False
    return bool(_UNSUBSCRIBE.search(stripped) or _COPYRIGHT.search(stripped))


def _paragraph_start(lines: list[str], index: int) -> int:
    while index > 0 and lines[index - 1].strip():
        index -= 1
    return index


def find_footer_start(lines: list[str]) -> int | None:
    """Index of the first footer line, or ``None`` when there is no clear footer."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return None
    half = content[(len(content) + 1) // 2] if len(content) > 2 else content[-1]
    for index in sorted(lines_with_keywords(lines, _KEYWORDS, half)):
        if _is_marker(lines, index):
            if _SIGNATURE.match(lines[index]):
                return index
            start = _paragraph_start(lines, index)
            return start if start >= half else index
    return None


def cut_footer(lines: list[str]) -> tuple[list[str], int]:
    """Drop the footer; returns the kept lines and the number of lines removed."""
    start = find_footer_start(lines)
    if start is None:
        return lines, 0
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1  # trailing blank lines are whitespace, not footer
    return lines[:start], end - start
