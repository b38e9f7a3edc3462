"""Whitespace: collapse runs of spaces and of blank lines; never join lines."""

from __future__ import annotations

import re

__all__ = ["normalize_whitespace"]

_INNER_RUN = re.compile(r"(?<=\S)[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}(?=\S)")
_TRAILING = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+$")
_BLANK_ONLY = re.compile(r"^[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+$")


def normalize_whitespace(lines: list[str]) -> tuple[list[str], dict[str, int]]:
    """Collapse space runs inside lines, strip line ends, squeeze blank-line runs.

    Leading indentation is kept (it carries structure: quotes, code, nested lists).
    Leading and trailing blank lines of the whole text are dropped.

    Returns:
        The new lines and counts: ``collapsed_runs`` and ``removed_blank_lines``.
    """
    collapsed = 0
    out: list[str] = []
    removed_blank = 0
    for line in lines:
        if _BLANK_ONLY.match(line):
            line = ""
        else:
            line, n = _INNER_RUN.subn(" ", line)
            collapsed += n
            line = _TRAILING.sub("", line)
        if not line and (not out or not out[-1]):
            removed_blank += 1
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
        removed_blank += 1
    return out, {"collapsed_runs": collapsed, "removed_blank_lines": removed_blank}
