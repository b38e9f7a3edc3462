"""``mailatlas export``: write a document as JSON, Markdown, HTML or PDF."""

from __future__ import annotations

from typing import cast

import click

from .._formats import EXPORT_FORMATS, ExportFormat
from ._options import StorePaths, store_options
from ._output import emit_json

__all__ = ["export_command"]


@click.command("export")
@click.argument("document_id", metavar="ID")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="Export format.  [default: json; markdown with --thread]",
)
@click.option(
    "--thread",
    is_flag=True,
    help="Export the whole conversation ID belongs to (ID: a thread id or any of its "
    "documents) as one Markdown document, messages in order. Asset links stay "
    "absolute; a directory --out gets <thread id>.md.",
)
@click.option(
    "--out",
    type=click.Path(),
    metavar="PATH",
    help="Where to write. A PATH ending in / (or an existing directory) is a "
    "directory: markdown/html write document.md or document.html plus assets/ into "
    "it, json/pdf write <ID>.json or <ID>.pdf. Any other PATH is the file to write "
    "(report.html); markdown/html put their assets beside it in report_files/. Only a "
    "regular file is ever replaced.",
)
@click.option(
    "--parents",
    is_flag=True,
    help="Create missing parent directories of --out (else they are an error).",
)
@store_options
def export_command(
    paths: StorePaths,
    document_id: str,
    fmt: str | None,
    thread: bool,
    out: str | None,
    parents: bool,
) -> None:
    """Export one document.

    Without --out, json, markdown and html are printed to stdout (asset links are
    absolute paths into the workspace) and pdf is written to
    <workspace>/exports/<ID>.pdf. Whenever a file is written, its path is printed as
    {"path": ...}. PDF needs headless Chromium (on PATH, or MAILATLAS_PDF_BROWSER).
    """
    if thread:
        if fmt not in (None, "markdown"):
            raise click.UsageError("--thread exports Markdown only; drop -f or use -f markdown")
        with paths.atlas() as atlas:
            if out is None:
                click.echo(atlas.render_thread(document_id), nl=False)
                return
            written = atlas.export_thread(document_id, out, parents=parents)
        emit_json({"path": str(written)})
        return
    export_format = cast(ExportFormat, fmt or "json")
    with paths.atlas() as atlas:
        if out is None and export_format != "pdf":
            click.echo(atlas.render_document(document_id, export_format), nl=False)
            return
        written = atlas.export_document(document_id, format=export_format, out=out, parents=parents)
    emit_json({"path": str(written)})
