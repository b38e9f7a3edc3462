"""``mailatlas folders``: the mailbox's folders, their special use and message counts."""

from __future__ import annotations

from typing import Any

import click
from mailatlas_imap import cli_spelling, list_imap_folders

from ._imap_options import connection_options, imap_config
from ._output import OutputForm, emit_rows

__all__ = ["folders_command"]

TABLE_COLUMNS = {
    "name": "FOLDER",
    "special_use": "USE",
    "messages": "MESSAGES",
    "unseen": "UNSEEN",
}


@click.command("folders")
@connection_options
@click.option("--table", is_flag=True, help="Print an aligned table for reading, not JSON.")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per line, not an array.")
def folders_command(table: bool, jsonl: bool, **options: Any) -> None:
    """List the folders of an IMAP mailbox (LIST and STATUS; nothing is stored).

    Prints a JSON array, INBOX first, then by name: name, special_use
    (\\Junk, \\Trash, \\Sent, \\All... from SPECIAL-USE, or null), selectable (false
    for a folder that only holds folders), messages, unseen, uidnext, uidvalidity,
    delimiter, attributes and error (why STATUS failed for that folder). Exits 1 if
    a folder's counts could not be read.
    """
    form: OutputForm = "table" if table else "jsonl" if jsonl else "json"
    if table and jsonl:
        from ._errors import UserError

        raise UserError("--table and --jsonl are two output forms; pick one")
    with cli_spelling():  # library messages name --ca-file, --tls none...
        folders = list_imap_folders(imap_config(**options))
    emit_rows([f.to_dict() for f in folders], form, TABLE_COLUMNS)
    failed = [f"{f.name}: {f.error}" for f in folders if f.error]
    if failed:
        click.echo(f"Error: {'; '.join(failed)}", err=True)
        click.get_current_context().exit(1)
