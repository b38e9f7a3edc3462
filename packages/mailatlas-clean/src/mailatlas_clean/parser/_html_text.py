"""HTML to readable text with html-to-markdown (a Rust core).

The output is light Markdown: links keep their targets (``[text](url)``), lists keep
their bullets, tables become pipe tables, emphasis markers are dropped. Scripts, styles
and hidden elements never reach the text; the input is nh3-sanitised HTML anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

import html_to_markdown
import nh3

from ._html_bounds import bounded_pieces, join_pieces

__all__ = ["html_to_text"]

_OPTIONS = html_to_markdown.ConversionOptions(
    skip_images=True,
    extract_metadata=False,
    autolinks=True,
    wrap=False,
    hidden_content="drop",
    newline_style="backslash",
    strip_tags=["b", "strong", "i", "em", "u", "span", "font", "small", "big", "mark"],
)
_PRE_OPEN = re.compile(r"<pre\b", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre>", re.IGNORECASE)
# A line end with the blanks around it. Only a run's first blank may start a match, and
# the run is taken whole: ``[ \t]*\r?\n`` tried at every space of a long run of spaces
# with no line end was quadratic (a 150 KB message took minutes).
_NEWLINES = re.compile(r"(?<![ \t])[ \t]*+\r?\n[ \t\r\n]*+")
_HARD_BREAK = re.compile(r"\\$", re.MULTILINE)


def _unwrap_source_lines(html: str) -> str:
    # A newline in HTML source is just a space; html-to-markdown keeps some of them,
    # which would split one sentence over two lines. <pre> keeps its newlines.
    if "<pre" not in html and "<PRE" not in html:
        return _NEWLINES.sub(" ", html)
    # Split around <pre>...</pre> by scanning forward only (a lazy ``<pre.*?</pre>``
    # rescanned to the end for every unclosed <pre>: quadratic).
    parts: list[str] = []
    pos = 0
    while (opened := _PRE_OPEN.search(html, pos)) is not None:
        closed = _PRE_CLOSE.search(html, opened.end())
        if closed is None:
            break
        parts.append(_NEWLINES.sub(" ", html[pos : opened.start()]))
        parts.append(html[opened.start() : closed.end()])
        pos = closed.end()
    parts.append(_NEWLINES.sub(" ", html[pos:]))
    return "".join(parts)


def html_to_text(markup: str, *, strip_newlines: bool = False) -> tuple[str, str | None]:
    """Convert (sanitised) HTML to plain, readable text.

    ``strip_newlines``: the text without its leading and trailing newlines, as
    ``text.strip("\n")`` but without that copy of a long text.

    Returns:
        The text, and a defect note if the converter failed and tags were stripped
        instead (the text is then flat but complete).
    """
    if not markup or markup.isspace():  # not markup.strip(): that copies a long text
        return "", None
    try:
        # Time and memory bounded per piece; the texts are joined as they come.
        texts = _separated(_piece_text(piece) for piece in bounded_pieces(markup))
        return join_pieces(_stripped(texts) if strip_newlines else texts), None
    except Exception as exc:
        flat = (html.unescape(nh3.clean(p, tags=set())) for p in bounded_pieces(markup))
        note = f"HTML to text conversion failed ({type(exc).__name__}); tags stripped"
        return join_pieces(_stripped(flat) if strip_newlines else flat), note


def _separated(texts: Iterable[str]) -> Iterator[str]:
    """``texts`` with a newline between each two (what ``"\n".join`` puts there)."""
    for i, text in enumerate(texts):
        if i:
            yield "\n"
        yield text


def _stripped(pieces: Iterable[str]) -> Iterator[str]:
    """``pieces`` whose concatenation is theirs with the newlines at both ends removed."""
    started = False
    held = ""  # newlines since the last other character: kept only if text follows
    for piece in pieces:
        if not started:
            piece = piece.lstrip("\n")
            if not piece:
                continue
            started = True
        body = piece.rstrip("\n")
        if body:
            if held:
                yield held
            yield body
            held = piece[len(body) :]
        else:
            held += piece


def _piece_text(piece: str) -> str:
    result = html_to_markdown.convert(_unwrap_source_lines(piece), _OPTIONS)
    return _HARD_BREAK.sub("", result.content or "")
