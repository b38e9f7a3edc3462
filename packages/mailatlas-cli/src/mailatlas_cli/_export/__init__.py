"""Exports of one stored document: JSON, Markdown, HTML and PDF.

:func:`render_document` gives the text formats as a string with absolute asset links;
:func:`export_document` writes a file (or a bundle directory) and returns its path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from mailatlas_core import Document, Thread

from .._errors import ExportError
from .._formats import EXPORT_FORMATS, ExportFormat
from ._common import (
    LOCAL_FILES,
    StoredFiles,
    absolute_path_link,
    absolute_uri_link,
    bundle_linker,
)
from ._paths import destination, open_destination, refuse_special, write_assets, write_file
from .html import render_html
from .markdown import render_markdown
from .pdf import render_pdf
from .thread import render_thread_markdown

__all__ = [
    "EXPORT_EXTENSIONS",
    "EXPORT_FORMATS",
    "ExportFormat",
    "export_document",
    "export_thread",
    "render_document",
    "render_thread",
]


EXPORT_EXTENSIONS: dict[ExportFormat, str] = {
    "json": "json",
    "markdown": "md",
    "html": "html",
    "pdf": "pdf",
}
BUNDLE_FORMATS = frozenset({"markdown", "html"})


def render_document(document: Document, fmt: ExportFormat, files: StoredFiles = LOCAL_FILES) -> str:
    """A text export (``json``, ``markdown``, ``html``) with absolute asset links."""
    if fmt == "json":
        return json.dumps(document.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(document, absolute_path_link)
    if fmt == "html":
        return render_html(document, absolute_uri_link, files=files)
    if fmt == "pdf":
        raise ExportError("a PDF is not text — write it to a file with --out, or omit --out")
    raise ExportError(f"unknown export format {fmt!r} — use one of {', '.join(EXPORT_FORMATS)}")


def export_document(
    document: Document,
    fmt: ExportFormat,
    workspace: Path | str,
    out: str | os.PathLike[str] | None = None,
    *,
    parents: bool = False,
    files: StoredFiles = LOCAL_FILES,
) -> Path:
    """Write an export of ``document`` and return the absolute path of the file written.

    ``out`` ending in ``/`` or naming an existing directory: ``markdown`` and ``html``
    write ``document.md``/``document.html`` plus ``assets/`` into it, ``json`` and
    ``pdf`` write ``<id>.<ext>``. Any other ``out`` is the file to write; ``markdown``
    and ``html`` put their assets beside it in ``<stem>_files/``. Missing parent
    directories are an error unless ``parents``; only a regular file is ever replaced
    (see :mod:`._paths`). Without ``out``: ``<workspace>/exports/<id>.<ext>``, asset
    links absolute.
    """
    if fmt not in EXPORT_EXTENSIONS:
        raise ExportError(f"unknown export format {fmt!r} — use one of {', '.join(EXPORT_FORMATS)}")
    bundle = out is not None and fmt in BUNDLE_FORMATS
    dest = destination(
        out, document_id=document.id, ext=EXPORT_EXTENSIONS[fmt], bundle=bundle, workspace=workspace
    )
    refuse_special(dest.path)  # before any work, and before any assets folder is made
    with open_destination(dest, out, parents=parents) as dir_fd:
        if fmt == "pdf":
            data = render_pdf(document, files)
        elif bundle:
            link = bundle_linker(dest.assets)
            page = (
                render_markdown(document, link)
                if fmt == "markdown"
                else render_html(document, link, files=files)
            )
            data = page.encode("utf-8")
            write_assets(dir_fd, dest, document, files)
        else:
            data = render_document(document, fmt, files).encode("utf-8")
        return write_file(dir_fd, dest, data)


def render_thread(thread: Thread, load: Callable[[str], Document]) -> str:
    """A whole conversation as one Markdown document, asset links absolute."""
    return render_thread_markdown(thread, load, absolute_path_link)


def export_thread(
    thread: Thread,
    load: Callable[[str], Document],
    workspace: Path | str,
    out: str | os.PathLike[str] | None = None,
    *,
    parents: bool = False,
) -> Path:
    """Write :func:`render_thread` to ``out`` (a file, or ``<thread id>.md`` in a
    directory; the ``--out`` rules of :func:`export_document`) or, without ``out``, to
    ``<workspace>/exports/<thread id>.md``. Asset links stay absolute (workspace paths)."""
    dest = destination(
        out, document_id=thread.thread_id, ext="md", bundle=False, workspace=workspace
    )
    refuse_special(dest.path)
    with open_destination(dest, out, parents=parents) as dir_fd:
        return write_file(dir_fd, dest, render_thread(thread, load).encode("utf-8"))
