"""Bounded HTML for the Rust HTML libraries: limited nesting, pieces of bounded size.

nh3 and html-to-markdown parse with html5ever, whose tree builder walks the stack of
open elements for many tags: 100,000 nested ``<div>`` took 120 s to sanitise (and as
long again for every HTML export, which sanitises once more). Its DOM also costs
40-70 times the markup in memory for tag-dense HTML. So before either library sees
message HTML:

* :func:`limit_depth` drops start tags nested deeper than ``MAX_DEPTH`` (a linear scan
  that tracks open elements by name; the dropped tags' text stays);
* :func:`html_pieces` cuts HTML longer than ``PIECE_CHARS``, or with more than
  ``PIECE_TAGS`` tags, at tag boundaries, so each piece is parsed on its own, in time
  and memory bounded by the piece. The DOM costs about 270 bytes per tag, so a 512 KB
  piece of ``<b>x</b>`` took 35 MB (4.4x an 8 MB message) in html-to-markdown and 25 MB
  in nh3; at most ``PIECE_TAGS`` tags a piece takes about 5 MB whatever its markup. Every piece is
  sanitised on its own too, and the concatenation of sanitised fragments is still safe
  (each is well-formed, and no element whose content is raw text survives nh3).

Mail HTML within both bounds (nearly all of it) passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = [
    "MAX_DEPTH",
    "PIECE_CHARS",
    "PIECE_TAGS",
    "bounded_html_pieces",
    "bounded_pieces",
    "html_pieces",
    "join_pieces",
    "limit_depth",
]

MAX_DEPTH = 256
PIECE_CHARS = 512 * 1024
PIECE_TAGS = 16 * 1024
_COUNT_STEP = 4096  # a dense piece's tags are counted this many characters at a time
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
_VOID = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr")
)  # fmt: skip


def limit_depth(markup: str) -> str:
    """``markup`` with start tags deeper than ``MAX_DEPTH`` open elements removed."""
    if markup.count("<") <= MAX_DEPTH:
        return markup  # too few tags to nest that deep
    stack: list[str] = []
    open_count: dict[str, int] = {}
    cuts: list[tuple[int, int]] = []
    resume = 0
    for match in _TAG.finditer(markup):
        if match.start() < resume:
            continue  # inside a tag that is being removed
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            if open_count.get(name):
                while stack:  # close it and everything opened inside it
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
            continue
        if name in _VOID:
            continue
        if len(stack) >= MAX_DEPTH:
            end = markup.find(">", match.end())
            resume = len(markup) if end == -1 else end + 1
            cuts.append((match.start(), resume))
            continue
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
    if not cuts:
        return markup
    out: list[str] = []
    last = 0
    for start, end in cuts:
        out.append(markup[last:start])
        last = end
    out.append(markup[last:])
    return "".join(out)


def html_pieces(markup: str) -> Iterator[str]:
    """``markup`` in pieces of about ``PIECE_CHARS`` characters or ``PIECE_TAGS`` tags
    (whichever comes first), cut just before a tag."""
    start = 0
    while (end := _piece_end(markup, start)) < len(markup):
        cut = _tag_start(markup, end)
        if cut == -1:
            break
        yield markup[start:cut]
        start = cut
    yield markup[start:]


def _piece_end(markup: str, start: int) -> int:
    """Where the piece from ``start`` may be cut: after ``PIECE_CHARS`` characters, or
    earlier, once it holds more than ``PIECE_TAGS`` ``<`` (counted, never copied)."""
    end = start + PIECE_CHARS
    if markup.count("<", start, end) <= PIECE_TAGS:
        return end
    tags = 0
    pos = start
    while pos < end:  # at most PIECE_TAGS + _COUNT_STEP tags before the cut
        step = pos + _COUNT_STEP
        tags += markup.count("<", pos, step)
        if tags > PIECE_TAGS:
            return step
        pos = step
    return end


def _tag_start(markup: str, pos: int) -> int:
    """The first ``<`` at or after ``pos`` that starts a tag, or -1."""
    while True:
        pos = markup.find("<", pos)
        if pos == -1 or pos + 1 >= len(markup):
            return -1
        following = markup[pos + 1]
        if following.isascii() and (following.isalpha() or following in "/!"):
            return pos
        pos += 1


def bounded_pieces(markup: str) -> Iterator[str]:
    """:func:`limit_depth`, then :func:`html_pieces`: what the HTML libraries may see."""
    return html_pieces(limit_depth(markup))


def bounded_html_pieces(markup: str) -> Iterator[str]:
    """Message HTML as pieces an HTML parser handles in bounded time and memory.

    Nesting deeper than ``MAX_DEPTH`` is flattened and long HTML is cut before a tag
    every ``PIECE_CHARS`` characters. Sanitise each piece on its own and join the
    results (as the parser does for the stored snapshot, and the HTML export again).
    """
    return bounded_pieces(markup)


def join_pieces(pieces: Iterable[str], sep: str = "") -> str:
    """``sep.join(pieces)`` without holding every piece and the result at once.

    ``str.join`` keeps the list of pieces until the joined copy is made: twice the text
    at its peak. Here one string grows: CPython resizes a string only this function
    refers to in place (a large one by ``mremap``, no copy), so the peak is the text and
    one piece (measured on 3.11-3.13: 32 MB of pieces joined took 33 MB, not 64 MB).
    Where the interpreter copies instead, the result is the same, only the peak is not
    lowered.
    """
    out = ""
    first = True
    for piece in pieces:
        if not first:
            out += sep
        out += piece
        first = False
    return out
