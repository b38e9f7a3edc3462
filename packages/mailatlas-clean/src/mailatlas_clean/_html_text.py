"""HTML to readable text with html-to-markdown (a Rust core).

The output is light Markdown: links keep their targets (``[text](url)``), lists keep
their bullets, tables become pipe tables, emphasis markers are dropped. Scripts, styles
and hidden elements never reach the text; the input is nh3-sanitised HTML anyway.
"""

from __future__ import annotations

import html
import re

import html_to_markdown
import nh3

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
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.IGNORECASE | re.DOTALL)
_NEWLINES = re.compile(r"[ \t]*\r?\n[ \t\r\n]*")
_HARD_BREAK = re.compile(r"\\$", re.MULTILINE)


def _unwrap_source_lines(html: str) -> str:
    # A newline in HTML source is just a space; html-to-markdown keeps some of them,
    # which would split one sentence over two lines. <pre> keeps its newlines.
    if "<pre" not in html and "<PRE" not in html:
        return _NEWLINES.sub(" ", html)
    parts = _PRE.split(html)
    return "".join(p if i % 2 else _NEWLINES.sub(" ", p) for i, p in enumerate(parts))


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Convert (sanitised) HTML to plain, readable text.

    Returns:
        The text, and a defect note if the converter failed and tags were stripped
        instead (the text is then flat but complete).
    """
    if not markup.strip():
        return "", None
    try:
        result = html_to_markdown.convert(_unwrap_source_lines(markup), _OPTIONS)
    except Exception as exc:
        flat = html.unescape(nh3.clean(markup, tags=set()))
        return flat, f"HTML to text conversion failed ({type(exc).__name__}); tags stripped"
    return _HARD_BREAK.sub("", result.content or ""), None
