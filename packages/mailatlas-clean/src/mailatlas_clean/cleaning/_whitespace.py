"""Whitespace: blank-line runs, trailing spaces and invisible padding; nothing else.

Spaces and tabs inside a line are never touched: they carry indentation and alignment
(a patch line ``+\\t\\tpr_err(``, a quoted ``>     code`` line, a plain-text table). Only
runs that hold a no-break or other Unicode space (the ``&nbsp;&nbsp;`` padding of HTML
mail) become one space. Every scan below is linear in the length of the text.
"""

from __future__ import annotations

import re

__all__ = ["normalize_whitespace"]

# Every horizontal space a line can end in; Unicode spaces are the padding kind.
_UNICODE_SPACES = "\u00a0\u2000-\u200a\u202f\u205f\u3000"
_SPACES = " \t\u00a0\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
_PADDING = re.compile(f"[{_UNICODE_SPACES}]")
# A run of 2+ spaces holding at least one Unicode space. The run is matched once from its
# first character (possessive), so each character is looked at a bounded number of times.
_PADDING_RUN = re.compile(rf"(?<=\S)[ \t]*+[{_UNICODE_SPACES}][ \t{_UNICODE_SPACES}]*+(?=\S)")
_BLANK_RUN = re.compile(r"\n{3,}")


# A long text is stripped in pieces of about this many characters, cut after a line end:
# its lines (a str object each, about 1.5 times the text) are never all held at once.
_PIECE = 1 << 20


def _strip_line_ends(text: str) -> tuple[str, int]:
    """Remove trailing spaces from every line, keeping the ``-- `` signature delimiter."""
    if len(text) <= _PIECE:
        return _strip_lines(text)
    pieces: list[str] = []
    trimmed = start = 0
    while start < len(text):
        cut = text.find("\n", start + _PIECE)
        end = len(text) if cut == -1 else cut + 1
        piece, count = _strip_lines(text[start:end])
        pieces.append(piece)
        trimmed += count
        start = end
    return "".join(pieces), trimmed


def _strip_lines(text: str) -> tuple[str, int]:
    lines = text.split("\n")
    trimmed = 0
    for index, line in enumerate(lines):
        stripped = line.rstrip(_SPACES)
        if len(stripped) != len(line) and line != "-- ":
            lines[index] = stripped
            trimmed += 1
    return "\n".join(lines), trimmed


def _collapse_padding(text: str) -> tuple[str, int]:
    count = 0

    def one(match: re.Match[str]) -> str:
        nonlocal count
        if len(match.group()) < 2:
            return match.group()  # a lone no-break space ("10\u00a0€") is meant
        count += 1
        return " "

    return _PADDING_RUN.sub(one, text), count


def normalize_whitespace(text: str) -> tuple[str, dict[str, int]]:
    """Remove trailing spaces, squeeze blank-line runs and collapse invisible padding.

    Leading indentation and spaces or tabs inside a line are kept as they are; no line
    is ever joined to another. Lines holding only spaces become empty; three or more line
    breaks become one blank line; blank lines at the start and end go.

    Returns:
        The new text and counts: ``trimmed_lines`` (lines whose trailing spaces went),
        ``collapsed_runs`` (padding runs made one space) and ``removed_blank_lines``.
    """
    collapsed = trimmed = 0
    # The "anything to do?" checks are plain string searches (a regex scan of the whole
    # text cost a quarter of the cleaning): every padding space is non-ASCII, and a
    # trailing blank is a space or tab before a line end or at the very end.
    if not text.isascii() and _PADDING.search(text):
        text, collapsed = _collapse_padding(text)
        text, trimmed = _strip_line_ends(text)
    elif " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        text, trimmed = _strip_line_ends(text)
    before = text.count("\n")
    if "\n\n\n" in text:
        text = _BLANK_RUN.sub("\n\n", text)
    text = text.strip("\n")
    return text, {
        "trimmed_lines": trimmed,
        "collapsed_runs": collapsed,
        "removed_blank_lines": before - text.count("\n"),
    }
