"""``mailatlas failures``, ``mailatlas stats`` and ``mailatlas delete``: everyday questions."""

from __future__ import annotations

import click

from ._options import StorePaths, store_options
from ._output import (
    OutputForm,
    emit_json,
    emit_rows,
    page_hint,
    paging_options,
    stderr_is_terminal,
)

__all__ = ["attachment_text_command", "delete_command", "failures_command", "stats_command"]

FAILURE_COLUMNS = {
    "created_at": "WHEN",
    "run_id": "RUN",
    "source": "SOURCE",
    "error": "ERROR",
}


@click.command("failures")
@click.option("--run", "run_id", type=int, metavar="ID", help="Only failures of this run.")
@paging_options("failures")
@store_options
def failures_command(
    paths: StorePaths, run_id: int | None, limit: int, offset: int, form: OutputForm
) -> None:
    """Print the messages that could not be stored, and why, newest first.

    Each entry: id, created_at, run_id and run_kind (the ingest or sync run),
    kind, source (file, mbox offset or IMAP folder and uid), error, and raw_path
    (the message bytes, kept for a later look).
    """
    with paths.atlas() as atlas:
        failures = atlas.list_failures(run_id=run_id, limit=limit, offset=offset)
        total = atlas.count_failures(run_id=run_id) if stderr_is_terminal() else None
    rows = [f.to_dict() for f in failures]
    emit_rows(rows, form, FAILURE_COLUMNS)
    if total is not None:
        click.echo(page_hint(offset, len(rows), total, "failures"), err=True)


@click.command("stats")
@store_options
def stats_command(paths: StorePaths) -> None:
    """Print what the store holds: counts, bytes on disk, sources and folders.

    documents, assets (and asset_bytes), locations, failures, runs;
    database_bytes (with its -wal and -shm files), workspace_bytes, total_bytes;
    by_source_kind and by_folder (documents seen in each IMAP folder); the oldest
    and newest sent date.
    """
    with paths.atlas() as atlas:
        emit_json(atlas.stats().to_dict())


@click.command("delete")
@click.argument("document_id", metavar="ID")
@store_options
def delete_command(paths: StorePaths, document_id: str) -> None:
    """Delete one document, with its files and its search-index entries.

    Removes the document's row, assets, locations and full-text entry, then the
    files MailAtlas wrote for it (raw message, HTML snapshot, asset files) if they
    are still regular files inside the workspace; anything else there is left and
    listed under files_left (exit 1). Exports you made are not touched. Prints
    {"id", "deleted", "files_removed", "files_left", "bytes_freed"}. An unknown ID
    is a usage error (exit 2). Ingesting the message again stores it again.
    """
    with paths.atlas() as atlas:
        result = atlas.delete_document(document_id)
    emit_json(result.to_dict())
    if result.files_left:
        click.echo(
            f'Error: {len(result.files_left)} file(s) left in place — see "files_left"',
            err=True,
        )
        click.get_current_context().exit(1)


@click.command("attachment-text")
@store_options
def attachment_text_command(paths: StorePaths) -> None:
    """Read the text of stored attachments that have none yet.

    For stores written before MailAtlas read attachment text (PDF, DOCX, XLSX,
    PPTX, ODT, HTML, CSV, plain text): each such asset gets its text, or the
    reason it has none, as new mail does (see `mailatlas show`), and becomes
    searchable with `list --query`. Prints {"read_count", "by_status"}. Running
    it again reads nothing twice.
    """
    with paths.atlas() as atlas:
        emit_json(atlas.read_attachment_texts())
