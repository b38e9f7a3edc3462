"""``mailatlas sync imap``: fetch folders from a live mailbox, incrementally."""

from __future__ import annotations

from typing import Any

import click
from mailatlas_clean import ParserConfig
from mailatlas_imap import ImapAuthError, ImapConnectionError, SyncInterrupted, cli_spelling

from .._atlas import unstarted_sync
from ._errors import INTERRUPTED_EXIT, UserError
from ._imap_options import connection_options, folder_options, imap_config, prune_option
from ._options import (
    AccountChoice,
    StorePaths,
    accounts_options,
    cleaning_options,
    quiet_option,
    store_options,
    workers_option,
)
from ._output import ProgressBar, emit_json, progress_enabled

__all__ = ["sync"]


@click.group()
def sync() -> None:
    """Fetch mail from a live mailbox into the store."""


@sync.command("imap")
@connection_options
@folder_options
@prune_option
@accounts_options
@workers_option
@store_options
@cleaning_options
@quiet_option
def sync_imap(
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    accounts: AccountChoice,
    **options: Any,
) -> None:
    """Fetch folders from an IMAP mailbox; reruns fetch only new mail and changes.

    Prints one JSON summary (status ok, partial or error; per-folder results with
    document_refs of the new documents, and flag_change_count, removed_count and
    moved_count for mail stored before). Exits 1 unless every folder succeeded.
    Mail is never marked as read; credentials are never stored. Ctrl-C stops after
    the last committed batch: the summary says status "interrupted", and the exit
    code is 130; rerun to resume.

    With --account NAME or --all-accounts, the accounts come from the accounts file
    (--config): each gives its server and where its secret comes from. The summary
    then lists one entry per account; one account's failure never stops the others.
    """
    if accounts.active:
        from ._accounts_sync import sync_accounts_command

        sync_accounts_command(paths, parser_config, quiet, accounts, options)
        return
    if options.pop("workers") is not None:
        raise UserError("--workers goes with --account or --all-accounts")
    with cli_spelling():  # library messages name --ca-file, --tls none...
        _sync(paths, parser_config, quiet, options)


def _sync(paths: StorePaths, parser_config: ParserConfig, quiet: bool, options: Any) -> None:
    config = imap_config(parser_config=parser_config, **options)
    with (
        paths.atlas(parser_config) as atlas,
        ProgressBar(progress_enabled(quiet), "sync imap") as bar,
    ):
        done: dict[str, int] = {}
        totals: dict[str, int] = {}

        def progress(folder: str, folder_done: int, folder_total: int) -> None:
            done[folder], totals[folder] = folder_done, folder_total
            bar.set_total(sum(totals.values()))
            bar.set_description(f"sync {folder}")
            bar.advance(sum(done.values()), {})

        try:
            result = atlas._sync_imap(config, progress)
        except SyncInterrupted as stopped:
            result = stopped.result
        except (ImapAuthError, ImapConnectionError) as exc:
            # Nothing could start: still print the summary scripts expect, then the
            # one-line error (translated with every other error, exit 1).
            emit_json((exc.result or unstarted_sync(config, str(exc))).to_dict())
            raise
    emit_json(result.to_dict())
    if result.interrupted:
        click.echo(f"interrupted: {result.ingested_count:,} stored; rerun to resume", err=True)
        click.get_current_context().exit(INTERRUPTED_EXIT)
    if result.status != "ok":
        failed = [f"{f.folder}: {f.error}" for f in result.folders if f.error]
        reason = "; ".join(failed) or f"{result.failed_count} message(s) failed"
        click.echo(f"Error: sync {result.status}: {reason}", err=True)
        click.get_current_context().exit(1)
