"""``mailatlas list`` and ``mailatlas show``: read the store (never create it)."""

from __future__ import annotations

from datetime import datetime

import click
from mailatlas_core.dates import to_utc_iso

from ._errors import UserError
from ._options import StorePaths, store_options
from ._output import emit_json

__all__ = ["list_command", "show_command"]

SOURCE_KINDS = ("eml", "mbox", "maildir", "imap")


def _date(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return to_utc_iso(datetime.fromisoformat(value))
    except ValueError:
        raise UserError(
            f"{option} {value!r} is not a date — use YYYY-MM-DD or an ISO-8601 timestamp"
        ) from None


@click.command("list")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="How many refs to print.",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="How many refs to skip (for paging).",
)
@click.option("--query", metavar="TEXT", help="Full-text search over subject, sender and body.")
@click.option("--since", metavar="DATE", help="Only mail received on or after DATE (UTC).")
@click.option("--until", metavar="DATE", help="Only mail received before DATE (UTC).")
@click.option("--sender", metavar="EMAIL", help="Only mail from this sender address.")
@click.option(
    "--source-kind",
    type=click.Choice(SOURCE_KINDS),
    help="Only documents first read from this kind of source.",
)
@click.option("--folder", metavar="NAME", help="Only documents seen in this IMAP folder.")
@click.option("--thread-id", metavar="ID", help="Only documents of this thread.")
@store_options
def list_command(
    paths: StorePaths,
    limit: int,
    offset: int,
    query: str | None,
    since: str | None,
    until: str | None,
    sender: str | None,
    source_kind: str | None,
    folder: str | None,
    thread_id: str | None,
) -> None:
    """Print stored document refs as a JSON array, newest first."""
    since_iso, until_iso = _date("--since", since), _date("--until", until)
    with paths.atlas() as atlas:
        refs = atlas.list_documents(
            query=query,
            limit=limit,
            offset=offset,
            since=since_iso,
            until=until_iso,
            sender=sender,
            source_kind=source_kind,
            folder=folder,
            thread_id=thread_id,
        )
    emit_json([ref.to_dict() for ref in refs])


@click.command("show")
@click.argument("document_id", metavar="ID")
@store_options
def show_command(paths: StorePaths, document_id: str) -> None:
    """Print one stored document, with its assets and locations, as JSON."""
    with paths.atlas() as atlas:
        document = atlas.get_document(document_id)
    emit_json(document.to_dict())
