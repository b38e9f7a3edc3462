"""Whitespace: collapse runs of spaces and of blank lines; never join lines."""

from __future__ import annotations

import re

__all__ = ["normalize_whitespace"]

_SPACE = "[ \\t\\u00a0\\u2000-\\u200a\\u202f\\u205f\\u3000]"
# Runs of 2+ spaces between two non-space characters; leading indentation is kept.
_INNER_RUN = re.compile(rf"(?<=\S){_SPACE}{{2,}}(?=\S)")
# Trailing spaces go, except the one in a "-- " signature delimiter (RFC 3676).
_TRAILING = re.compile(rf"(?<!^--){_SPACE}+$", re.MULTILINE)
# Cheap test for "anything to do": a space next to a space or a line end, or odd spaces.
_MAY_COLLAPSE = re.compile(r"  | \n| $|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_whitespace(text: str) -> tuple[str, dict[str, int]]:
    """Collapse space runs inside lines, strip line ends, squeeze blank-line runs.

    Leading indentation is kept (it carries structure: quotes, code, nested lists), and
    no line is ever joined to another. Leading and trailing blank lines are dropped.

    Returns:
        The new text and counts: ``collapsed_runs`` and ``removed_blank_lines``.
    """
    collapsed = 0
    if _MAY_COLLAPSE.search(text):
        text, collapsed = _INNER_RUN.subn(" ", text)
        text = _TRAILING.sub("", text)
    before = text.count("\n")
    text = _BLANK_RUN.sub("\n\n", text).strip("\n")
    return text, {"collapsed_runs": collapsed, "removed_blank_lines": before - text.count("\n")}
