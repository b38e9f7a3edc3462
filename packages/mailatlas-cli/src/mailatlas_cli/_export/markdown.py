"""Markdown export: a header block, the cleaned body text, then the assets.

Message text is data, never markup. Every character that CommonMark (or GitHub's
extensions: tables, strikethrough, autolinks) could read as syntax is escaped, so the
rendered page shows the text exactly as it was written and nothing in it becomes an
image, a link, raw HTML or a code block. The only live links are the ones this module
writes: ``http``, ``https`` and ``mailto`` URLs found in the text become autolinks
(``<https://...>``, whose visible text is the URL itself), and the asset list links the
document's own files. See docs/security.md ("Markdown export").
"""

from __future__ import annotations

import re
from urllib.parse import quote

from mailatlas_core import Document

from ._common import AssetLinker, header_of

__all__ = ["LINK_SCHEMES", "markdown_inline", "markdown_text", "render_markdown"]

LINK_SCHEMES = ("http", "https", "mailto")

# Anywhere in a line: emphasis, code, links and images ([ ]), raw HTML and autolinks
# (<), entities (&), the escape character itself, GFM strikethrough (~) and table cells
# (|), and attribute blocks ({ }) of common renderer plugins. "!" and "(" need no escape:
# they only mean something right after a "[" or "]", which is always escaped. < > & are
# written as entities, which every Markdown dialect decodes (not all honour "\<").
_ANYWHERE = re.compile(r"[\\`*_\[\]<>&~|{}]")
# In a header value "#" too: it could close an ATX heading.
_ANYWHERE_INLINE = re.compile(r"[\\`*_\[\]<>&~|{}#]")
# Renderers with a linkify extension (markdown-it's) find bare URLs, domains and e-mail
# addresses in the source text before escapes are read: a link that ends in a backslash
# swallows the backslash of the escape after it and frees the character it escaped
# (`a.b/c\*` becomes a link to `a.b/c\` and a live `*`). Inside a run of non-space
# characters that could be such a link (it holds ".", ":" or "@"), characters are
# written as numeric entities instead, which are never Markdown syntax.
_RUN = re.compile(r"\S+")
_LINKABLE = frozenset(".:@")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# At the start of a line (after its indentation): headings, block quotes, list items,
# setext underlines, and ordered list markers ("1." / "1)").
_LINE_START = re.compile(r"[#>+=-]|\d{1,9}[.)]")
# CommonMark's line endings; str.splitlines() would also split on characters CommonMark
# keeps inside a line (U+2028, form feed...), and a lone CR must not start a new block.
_LINE_END = re.compile(r"\r\n|\r|\n")
# URLs that may become live links. What stops them matches what ends a CommonMark
# autolink (space, control characters, < and >).
_URL = re.compile(r"(https?://|mailto:)[^\s<>\x00-\x1f\x7f]+", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"*_~"
_NBSP = "\u00a0"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


def _entity_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or f"&#{ord(char)};"


def _escape(text: str, special: re.Pattern[str] = _ANYWHERE) -> str:
    def run(match: re.Match[str]) -> str:
        word = match.group()
        return special.sub(_escape_char if _LINKABLE.isdisjoint(word) else _entity_char, word)

    return _RUN.sub(run, text)


def _url_end(url: str) -> int:
    """How much of a matched URL is the URL: trailing punctuation and an unbalanced ``)``
    belong to the sentence around it (as GitHub decides for its autolinks)."""
    end = len(url)
    unbalanced = url.count(")") - url.count("(")
    while end > 0:
        last = url[end - 1]
        if last in _URL_TRAILING:
            end -= 1
        elif last == ")" and unbalanced > 0:
            end -= 1
            unbalanced -= 1
        else:
            break
    return end


def _escape_with_links(text: str) -> str:
    """Escape ``text``; its http/https/mailto URLs become autolinks."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group()
        end = _url_end(url)
        if end <= len(match.group(1)):
            continue  # a bare scheme, no address: plain text
        out += [_escape(text[pos : match.start()]), f"<{url[:end]}>"]
        pos = match.start() + end
    out.append(_escape(text[pos:]))
    return "".join(out)


def _line(line: str) -> str:
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    if not body:
        return line  # blank: it separates paragraphs, as in the message
    if "\t" in indent or len(indent) >= 4:
        # Four columns of indentation would make an indented code block, where escapes
        # show as backslashes. A no-break space is text, not indentation.
        indent = _NBSP + indent[1:]
    marker = _LINE_START.match(body)
    if marker is not None:
        end = marker.end()
        char = body[end - 1]
        escaped = _ENTITIES.get(char) or "\\" + char
        return f"{indent}{body[: end - 1]}{escaped}{_escape_with_links(body[end:])}"
    return indent + _escape_with_links(body)


def markdown_text(text: str) -> str:
    """Message text as Markdown that renders as exactly that text.

    Line structure is kept; every Markdown-significant character is escaped; http,
    https and mailto URLs become autolinks (their link text is the URL itself).
    """
    return "\n".join(_line(line) for line in _LINE_END.split(text))


def markdown_inline(text: str) -> str:
    """A header value (subject, sender, file name) as one line of literal Markdown text."""
    return _escape(" ".join(_LINE_END.split(text)), _ANYWHERE_INLINE)


def _target(link: str) -> str:
    """A link target the document itself made (an asset path), always literal.

    Links arrive percent-encoded; anything else that Markdown could read (a space, a
    bracket, a backslash, an entity's ``&``, a line end) is encoded here too. The
    ``s3://`` of an asset in an S3 workspace stays as it is.
    """
    scheme, sep, rest = link.partition("://")
    if sep and scheme.isalnum():
        return f"{scheme}://{quote(rest, safe='/%')}"
    return quote(link, safe="/%")


def render_markdown(
    document: Document,
    link: AssetLinker,
    *,
    level: int = 1,
    title: str | None = None,
    notes: tuple[tuple[str, str], ...] = (),
) -> str:
    """The document as Markdown, asset links made by ``link``.

    ``level`` is the heading level of its title (a thread export nests each message
    one level down), ``title`` replaces the subject as the title (already Markdown),
    and ``notes`` adds header lines (label, plain text) after the Date.
    """
    header = header_of(document)
    heading = "#" * level
    lines = [f"{heading} {title or markdown_inline(header.subject)}", ""]
    for label, value in (
        ("From", header.sender),
        ("To", header.to),
        ("Cc", header.cc),
        ("Date", header.date),
        *notes,
    ):
        if value:
            lines.append(f"**{label}:** {markdown_inline(value)}  ")
    lines += ["", "---", "", markdown_text(document.body_text.rstrip()), ""]
    if document.assets:
        lines += [f"{heading}# Assets", ""]
        for asset in document.assets:
            alt = markdown_inline(asset.filename)
            bang = "!" if asset.mime_type.startswith("image/") else ""
            lines.append(
                f"- {bang}[{alt}]({_target(link(asset))}) "
                f"({markdown_inline(asset.mime_type)}, {asset.size} bytes)"
            )
        lines.append("")
    return "\n".join(lines)
