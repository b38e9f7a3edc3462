"""HTML export: a standalone, sanitised page with a header block.

The stored HTML is sanitised again on the way out (nh3): no script, no style sheet,
no remote load. Images may only point at the document's own assets or be ``data:``
URIs; links may only be ``http``, ``https`` or ``mailto``. A Content-Security-Policy
in the page repeats the rule for any renderer that honours it.
"""

from __future__ import annotations

import html
from urllib.parse import unquote, urlsplit

import nh3
from mailatlas_clean import bounded_html_pieces
from mailatlas_core import ASSET_SCHEME, Asset, Document

from ._common import LOCAL_FILES, AssetLinker, StoredFiles, header_of

__all__ = ["CSP", "render_html", "sanitize_body"]

CSP = "default-src 'none'; img-src file: data:; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #111; }
header.mailatlas { border-bottom: 1px solid #ccc; margin-bottom: 1.5rem; }
header.mailatlas h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
header.mailatlas dl { display: grid; grid-template-columns: max-content 1fr;
                      gap: .15rem .75rem; margin: 0 0 1rem; }
header.mailatlas dt { font-weight: bold; }
header.mailatlas dd { margin: 0; }
pre.body { white-space: pre-wrap; font-family: inherit; }
img { max-width: 100%; height: auto; }
ul.assets { border-top: 1px solid #ccc; padding-top: 1rem; }
"""

_LINK_SCHEMES = {"http", "https", "mailto"}


def sanitize_body(body_html: str, document: Document, link: AssetLinker) -> str:
    """Sanitise stored body HTML and point its asset references at ``link``.

    Stored HTML names an asset ``mailatlas-asset:<asset id>``; HTML stored by earlier
    versions links ``../assets/<document id>/<filename>``: both resolve.
    """
    by_id = {asset.id: asset for asset in document.assets}
    by_name = {asset.filename: asset for asset in document.assets}
    prefix = f"../assets/{document.id}/"
    scheme = f"{ASSET_SCHEME}:"

    def asset_link(value: str) -> str | None:
        if value.startswith(scheme):
            asset = by_id.get(value[len(scheme) :])
            return link(asset) if asset is not None else None
        value = unquote(value)
        if value.startswith(prefix):
            asset = by_name.get(value[len(prefix) :])
            return link(asset) if asset is not None else None
        return None

    def keep(element: str, attribute: str, value: str) -> str | None:
        if attribute == "src":
            if value.startswith("data:image/"):
                return value
            return asset_link(value)
        if attribute == "href":
            found = asset_link(value)
            if found is not None:
                return found
            return value if urlsplit(value).scheme.lower() in _LINK_SCHEMES else None
        return value

    # In bounded pieces, like the parser: html5ever is quadratic in nesting depth
    # (100,000 nested <div> took 89 s per export).
    return "".join(
        nh3.clean(
            piece,
            attribute_filter=keep,
            url_schemes=_LINK_SCHEMES | {"data", "file", "s3", ASSET_SCHEME},
            clean_content_tags={"script", "style", "title"},
        )
        for piece in bounded_html_pieces(body_html)
    )


def _header_html(document: Document) -> str:
    header = header_of(document)
    rows = [
        f"<dt>{label}</dt><dd>{html.escape(value)}</dd>"
        for label, value in (
            ("From", header.sender),
            ("To", header.to),
            ("Cc", header.cc),
            ("Date", header.date),
        )
        if value
    ]
    return (
        f'<header class="mailatlas"><h1>{html.escape(header.subject)}</h1>'
        f"<dl>{''.join(rows)}</dl></header>"
    )


def _assets_html(document: Document, link: AssetLinker | None) -> str:
    attachments = [a for a in document.assets if a.kind == "attachment"]
    if not attachments:
        return ""

    def name(asset: Asset) -> str:
        text = html.escape(asset.filename)
        return text if link is None else f'<a href="{html.escape(link(asset))}">{text}</a>'

    items = "".join(
        f"<li>{name(a)} ({html.escape(a.mime_type)}, {a.size} bytes)</li>" for a in attachments
    )
    return f'<ul class="assets">{items}</ul>'


def render_html(
    document: Document,
    link: AssetLinker,
    *,
    link_attachments: bool = True,
    files: StoredFiles = LOCAL_FILES,
) -> str:
    """The document as one standalone HTML page, asset links made by ``link``.

    With ``link_attachments=False`` attachments are listed by name only (PDF: a link
    would carry a local path into the file). The stored HTML is read through ``files``.
    """
    body = None
    stored = files.html(document)
    if stored:
        body = sanitize_body(stored, document, link)
    if body is None:
        body = f'<pre class="body">{html.escape(document.body_text)}</pre>'
    title = html.escape(header_of(document).subject)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{_header_html(document)}\n<main>\n{body}\n</main>\n"
        f"{_assets_html(document, link if link_attachments else None)}\n</body>\n</html>\n"
    )
