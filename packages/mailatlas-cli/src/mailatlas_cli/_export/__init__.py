"""Exports of one stored document: JSON, Markdown, HTML and PDF.

:func:`render_document` gives the text formats as a string with absolute asset links;
:func:`export_document` writes a file (or a bundle directory) and returns its path.
"""

from __future__ import annotations

import json
from pathlib import Path

from mailatlas_core import Document

from .._formats import EXPORT_FORMATS, ExportFormat
from ..errors import ExportError, ExportPathError
from ._common import absolute_path_link, absolute_uri_link, bundle_link, copy_assets, write_private
from .html import render_html
from .markdown import render_markdown
from .pdf import render_pdf

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_document", "render_document"]


_EXTENSIONS: dict[ExportFormat, str] = {
    "json": "json",
    "markdown": "md",
    "html": "html",
    "pdf": "pdf",
}
BUNDLE_FORMATS = frozenset({"markdown", "html"})


def render_document(document: Document, fmt: ExportFormat) -> str:
    """A text export (``json``, ``markdown``, ``html``) with absolute asset links."""
    if fmt == "json":
        return json.dumps(document.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(document, absolute_path_link)
    if fmt == "html":
        return render_html(document, absolute_uri_link)
    if fmt == "pdf":
        raise ExportError("a PDF is not text — write it to a file with --out, or omit --out")
    raise ExportError(f"unknown export format {fmt!r} — use one of {', '.join(EXPORT_FORMATS)}")


def export_document(
    document: Document, fmt: ExportFormat, workspace: Path, out: str | Path | None = None
) -> Path:
    """Write an export of ``document`` and return the absolute path of the file written.

    ``out`` is a bundle directory for ``markdown`` and ``html`` (``document.md`` or
    ``document.html`` plus ``assets/``, linked relatively); for ``json`` and ``pdf`` it
    is the file to write, or an existing directory to write ``<id>.<ext>`` into.
    Without ``out``: ``<workspace>/exports/<id>.<ext>``, asset links absolute.
    """
    if fmt not in _EXTENSIONS:
        raise ExportError(f"unknown export format {fmt!r} — use one of {', '.join(EXPORT_FORMATS)}")
    ext = _EXTENSIONS[fmt]
    if out is None:
        dest = workspace / "exports" / f"{document.id}.{ext}"
        if fmt == "pdf":
            return render_pdf(document, dest)
        return write_private(dest, render_document(document, fmt).encode("utf-8"))
    target = Path(out).absolute()
    if fmt in BUNDLE_FORMATS:
        if target.exists() and not target.is_dir():
            raise ExportPathError(
                f"--out {out} is a file, but a {fmt} export is a directory bundle — "
                "give a directory path"
            )
        copy_assets(document, target)
        page = (
            render_markdown(document, bundle_link)
            if fmt == "markdown"
            else render_html(document, bundle_link)
        )
        return write_private(target / f"document.{ext}", page.encode("utf-8"))
    dest = target / f"{document.id}.{ext}" if target.is_dir() else target
    if fmt == "pdf":
        return render_pdf(document, dest)
    return write_private(dest, render_document(document, "json").encode("utf-8"))
