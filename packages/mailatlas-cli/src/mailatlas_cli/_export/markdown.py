"""Markdown export: a header block, the cleaned body text, then the assets."""

from __future__ import annotations

import re

from mailatlas_core import Document

from ._common import AssetLinker, header_of

__all__ = ["render_markdown"]

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>#|])")


def _escape(text: str) -> str:
    """Escape what Markdown would read as markup in a header value."""
    return _INLINE_SPECIALS.sub(r"\\\1", text)


_IMAGE_BANG = re.compile(r"!(?=\[)")


def _safe_body(text: str) -> str:
    """The body as Markdown that loads nothing and runs nothing when rendered.

    Message text is data, not markup: ``<`` is escaped so no raw HTML (``<img>``,
    ``<script>``) reaches a renderer, and image syntax ``![alt](url)`` loses its ``!``
    so a remote image becomes a plain link instead of a tracking pixel.
    """
    return _IMAGE_BANG.sub(r"\\!", text.replace("<", "&lt;"))


def _target(link: str) -> str:
    """A link target; angle brackets keep spaces and parentheses intact."""
    return f"<{link}>" if re.search(r"[\s()<>]", link) else link


def render_markdown(document: Document, link: AssetLinker) -> str:
    """The document as Markdown, asset links made by ``link``."""
    header = header_of(document)
    lines = [f"# {_escape(header.subject)}", ""]
    for label, value in (
        ("From", header.sender),
        ("To", header.to),
        ("Cc", header.cc),
        ("Date", header.date),
    ):
        if value:
            lines.append(f"**{label}:** {_escape(value)}  ")
    lines += ["", "---", "", _safe_body(document.body_text.rstrip()), ""]
    if document.assets:
        lines += ["## Assets", ""]
        for asset in document.assets:
            alt = _escape(asset.filename)
            bang = "!" if asset.mime_type.startswith("image/") else ""
            lines.append(
                f"- {bang}[{alt}]({_target(link(asset))}) ({asset.mime_type}, {asset.size} bytes)"
            )
        lines.append("")
    return "\n".join(lines)
