"""The HTML snapshot: ``cid:`` references rewritten, then sanitised with nh3.

nh3 (Rust's ammonia) drops scripts, event handlers, ``javascript:`` URLs, forms,
iframes, objects and comments. What is left that could still load something remote is
``<img src>`` and CSS ``url()`` in ``style`` attributes; both are checked after nh3, on
its normalised output (attributes always double-quoted, so a regex is reliable there):
local asset paths stay, anything remote is blocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import quote, unquote

import nh3

from ._html_bounds import bounded_pieces, join_pieces

__all__ = ["asset_href", "rewrite_cids", "sanitize_html"]

_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["*"] = {"style", "title", "dir", "lang"}
for _tag in ("td", "th", "table", "tr"):
    _ATTRIBUTES.setdefault(_tag, set()).update({"width", "height", "valign", "bgcolor"})
_ATTRIBUTES.setdefault("font", set()).update({"color", "face", "size"})
_STYLE_PROPERTIES = {
    "color", "background-color", "background", "background-image", "font", "font-family",
    "font-size", "font-style", "font-weight", "text-align", "text-decoration", "line-height",
    "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "border",
    "border-collapse", "border-spacing", "width", "height", "max-width", "vertical-align",
    "display", "white-space", "list-style-type",
}  # fmt: skip
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "tel"},
    filter_style_properties=_STYLE_PROPERTIES,
    link_rel="noopener noreferrer nofollow",
)
# cid: in quotes ("cid:x" / 'cid:x'), in CSS url(cid:x), or bare (src=cid:x).
_CID_REF = re.compile(
    r"""(?P<q>["'(])\s*cid:(?P<a>[^"')\s>]+)\s*(?=["')])|(?<=[=\s])cid:(?P<b>[^"'\s>]+)""",
    re.IGNORECASE,
)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\s)src="([^"]*)"', re.IGNORECASE)
_STYLE_ATTR = re.compile(r'style="([^"]*)"')
_CSS_URL = re.compile(r"url\(", re.IGNORECASE)
_QUOTES = ("&quot;", "'")
# CSS that runs script (IE expression()) or loads from a bare string, not url():
# image-set("https://...") and image("https://...") load remote images in Chromium.
_CSS_DANGEROUS = re.compile(r"expression\s*\(|(?:-webkit-)?image(?:-set)?\s*\(", re.IGNORECASE)
# Whether any style attribute may need _block_css (what the lower-cased HTML was searched for).
_MAY_BLOCK_CSS = re.compile(r"url\(|expression|image", re.IGNORECASE | re.ASCII)


def asset_href(document_id: str, filename: str) -> str:
    """The link from ``html/<id>.html`` to a stored asset."""
    return f"../assets/{document_id}/{quote(filename)}"


def rewrite_cids(html: str, targets: Mapping[str, str]) -> tuple[str, list[str]]:
    """Point every ``cid:`` reference at its local asset.

    Args:
        html: the message HTML.
        targets: normalised Content-ID -> local href.

    Returns:
        The rewritten HTML and the Content-IDs that matched no part.
    """
    if "cid:" not in html and "CID:" not in html.upper():
        return html, []
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        raw = match.group("a") or match.group("b") or ""
        cid = unquote(raw).strip("<>")
        href = targets.get(cid) or targets.get(cid.lower())
        if href is None:
            missing.append(cid)
            return match.group(0)
        return (match.group("q") or "") + href

    return _CID_REF.sub(replace, html), missing


def _block_css_urls(style: str, local_assets: frozenset[str]) -> str:
    r"""Every ``url(...)`` that is not one of ``local_assets`` becomes ``none``.

    A forward scan, not a lazy ``url\((.*?)\)`` regex: that one rescanned to the end of
    the attribute for every ``url(`` with no ``)`` after it (quadratic). An unclosed
    ``url(`` runs to the end, as CSS reads it.
    """
    out: list[str] = []
    pos = 0
    while (found := _CSS_URL.search(style, pos)) is not None:
        close = style.find(")", found.end())
        end = len(style) if close == -1 else close + 1
        inner = style[found.end() : close if close != -1 else len(style)]
        for mark in _QUOTES:
            inner = inner.removeprefix(mark).removesuffix(mark)
        out.append(style[pos : found.start()])
        out.append(style[found.start() : end] if inner in local_assets else "none")
        pos = end
    out.append(style[pos:])
    return "".join(out)


def sanitized_pieces(html: str) -> Iterator[str]:
    """``html`` sanitised a bounded piece at a time, each piece whole (its open elements
    closed): what :func:`sanitize_html` joins. For a reader of the text alone, which
    can stop at its limit and never holds the whole sanitised HTML; images and CSS are
    left as nh3 leaves them (the text has neither)."""
    # Nesting and piece size bounded: html5ever is quadratic in depth and its DOM is big.
    return (_CLEANER.clean(piece) for piece in bounded_pieces(html))


def sanitize_html(html: str, local_assets: frozenset[str] = frozenset()) -> tuple[str, int]:
    """Sanitise message HTML for storage and display.

    Args:
        html: message HTML whose ``cid:`` references were already rewritten.
        local_assets: the exact hrefs of this message's own assets (``asset_href``);
            an image or CSS ``url()`` survives only if it is one of them, so neither a
            remote load nor a crafted ``../assets/../../`` path can get through.

    Returns:
        The safe HTML and how many remote images were blocked.
    """
    clean = join_pieces(sanitized_pieces(html))
    blocked = 0

    def block_img(match: re.Match[str]) -> str:
        nonlocal blocked
        if match.group(2) in local_assets:
            return match.group(0)
        blocked += 1
        return f'{match.group(1)}data-blocked-src="{match.group(2)}"'

    def block_css(match: re.Match[str]) -> str:
        # nh3 keeps allowed properties whatever their value. An invalid value makes the
        # rule a no-op, so dangerous functions are renamed rather than parsed.
        style = _CSS_DANGEROUS.sub("blocked(", match.group(1))
        return 'style="' + _block_css_urls(style, local_assets) + '"'

    clean = _IMG_SRC.sub(block_img, clean)
    if _MAY_BLOCK_CSS.search(clean):  # searched: clean.lower() would copy the whole HTML
        clean = _STYLE_ATTR.sub(block_css, clean)
    return clean, blocked
