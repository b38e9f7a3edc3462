"""``mailatlas list`` and ``mailatlas show``: read the store (never create it)."""

from __future__ import annotations

from typing import Any

import click
from mailatlas_core import parse_date_filter

from ._options import StorePaths, store_options
from ._output import (
    OutputForm,
    emit_json,
    emit_rows,
    page_hint,
    paging_options,
    stderr_is_terminal,
)

__all__ = ["list_command", "show_command", "thread_command"]

SOURCE_KINDS = ("eml", "mbox", "maildir", "imap")
SEARCH_HELP = (
    "Full-text search over subject, sender, To/Cc/Bcc and body, and over each "
    "attachment's text (each hit's matched_in says which). All words must "
    'match; "exact phrase"; pars* (prefix); invoice OR budget; invoice NOT draft; '
    "parentheses group (operators in capitals)."
)
DATE_HELP = (
    "DATE: YYYY-MM-DD, an ISO-8601 timestamp, today, yesterday, 12h, 7d, 2w, 3mo, 1y, "
    "'3 days ago' or 'last week|month|year' (UTC)."
)


def _date(option: str, value: str | None) -> str | None:
    """The one date parser of the Python API, with the option's name in its message."""
    return None if value is None else parse_date_filter(value, name=option)


@click.command("list")
@paging_options("refs")
@click.option("--query", metavar="TEXT", help=SEARCH_HELP)
@click.option("--since", metavar="DATE", help="Only mail dated on or after DATE.")
@click.option("--until", metavar="DATE", help="Only mail dated before DATE. " + DATE_HELP)
@click.option(
    "--date-field",
    type=click.Choice(["sent", "received"]),
    default="sent",
    show_default=True,
    help="What --since/--until compare: sent is the Date header (published_at; for "
    "a forward, the original's date), or the arrival time for mail without one; "
    "received is when the message arrived (received_at: IMAP arrival, or the newest "
    "Received: header).",
)
@click.option(
    "--sender",
    metavar="WHO",
    help="Only mail from WHO: an address (exact), a domain (gnome.org, subdomains "
    "too) or part of the sender's name.",
)
@click.option("--to", "to", metavar="ADDR", help="Only mail with ADDR among its To recipients.")
@click.option("--cc", metavar="ADDR", help="Only mail with ADDR among its Cc recipients.")
@click.option("--message-id", metavar="ID", help="Only the message with this Message-ID.")
@click.option(
    "--source-kind",
    type=click.Choice(SOURCE_KINDS),
    help="Only documents first read from this kind of source.",
)
@click.option("--folder", metavar="NAME", help="Only documents seen in this IMAP folder.")
@click.option("--thread-id", metavar="ID", help="Only documents of this thread.")
@click.option(
    "--flagged", is_flag=True, help="Only mail flagged (\\Flagged) where it is on the server."
)
@click.option(
    "--unread", is_flag=True, help="Only mail not read (no \\Seen) where it is on the server."
)
@click.option(
    "--keyword",
    metavar="K",
    help="Only mail with the IMAP keyword K ($Label1, $Important...; any case) on the "
    "server. --flagged, --unread and --keyword look at the flags of one live location "
    "(in --folder, if given), as of the last sync.",
)
@store_options
def list_command(
    paths: StorePaths,
    limit: int,
    offset: int,
    since: str | None,
    until: str | None,
    form: OutputForm,
    **filters: Any,
) -> None:
    """Print stored document refs as a JSON array, newest first (by arrival).

    On a terminal, stderr also says how many match and how to get the next page.
    A search or date that cannot be read is a usage error (exit 2).
    """
    filters["since"], filters["until"] = _date("--since", since), _date("--until", until)
    with paths.atlas() as atlas:
        refs = atlas.list_documents(limit=limit, offset=offset, **filters)
        total = atlas.count_documents(**filters) if stderr_is_terminal() else None
    rows = [ref.to_dict() for ref in refs]
    emit_rows(rows, form, TABLE_COLUMNS)
    if total is not None:
        click.echo(page_hint(offset, len(rows), total), err=True)


TABLE_COLUMNS = {
    "id": "ID",
    "received_at": "RECEIVED",
    "sender_email": "FROM",
    "subject": "SUBJECT",
}


@click.command("show")
@click.argument("document_id", metavar="ID")
@store_options
def show_command(paths: StorePaths, document_id: str) -> None:
    """Print one stored document, with its assets and locations, as JSON."""
    with paths.atlas() as atlas:
        document = atlas.get_document(document_id)
    emit_json(document.to_dict())


@click.command("thread")
@click.argument("thread_id", metavar="ID")
@store_options
def thread_command(paths: StorePaths, thread_id: str) -> None:
    """Print a conversation as a JSON tree.

    ID is a thread id (a document's thread_id) or the id of any document in the
    thread. Each node is a Message-ID with the stored documents that have it and its
    replies, in date order; "missing": true marks a message that other messages
    answer but the store does not hold. Page the thread's documents with
    `mailatlas list --thread-id ID`; export it with `mailatlas export --thread ID`.
    """
    with paths.atlas() as atlas:
        thread = atlas.get_thread(thread_id)
    emit_json(thread.to_dict())
