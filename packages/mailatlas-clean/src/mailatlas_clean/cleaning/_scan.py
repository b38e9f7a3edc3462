"""Fast keyword pre-filters: which lines could a rule possibly apply to?

Python's ``re`` tries every branch of a case-insensitive alternation at every position,
which made whole-text pre-checks cost more than the rules. ``str.find`` on lower-cased
text is a C loop per keyword, and much faster.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

__all__ = ["lines_with_keywords"]


def lines_with_keywords(lines: list[str], keywords: tuple[str, ...], start: int = 0) -> set[int]:
    """Indexes (>= ``start``) of the lines that contain any of ``keywords`` (lower-case)."""
    text = "\n".join(lines[start:])
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two: go line by line
        return {
            start + i
            for i, line in enumerate(lines[start:])
            if any(k in line.lower() for k in keywords)
        }
    positions: list[int] = []
    for keyword in keywords:
        found = lowered.find(keyword)
        while found != -1:
            positions.append(found)
            found = lowered.find(keyword, found + 1)
    if not positions:
        return set()
    starts = list(accumulate((len(line) + 1 for line in lines[start:-1]), initial=0))
    return {start + bisect_right(starts, pos) - 1 for pos in positions}
