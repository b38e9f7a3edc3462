"""``mailatlas sync imap --account NAME`` / ``--all-accounts``: accounts from a file.

The accounts file gives each account's connection and the source of its secret, so the
single-mailbox connection options are refused next to it (the environment variables of
those options are ignored). ``--folder``, ``--timeout``, ``--retries`` and the cleaning
flags apply to every account.
"""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource
from mailatlas_clean import ParserConfig
from mailatlas_imap import (
    ALL_FOLDERS,
    AccountResult,
    AccountsInterrupted,
    AccountsSyncResult,
    load_accounts,
)

from ._errors import INTERRUPTED_EXIT, UserError
from ._imap_options import folder_choice
from ._options import AccountChoice, StorePaths
from ._output import ProgressBar, emit_json, progress_enabled

__all__ = ["CONNECTION_OPTIONS", "sync_accounts_command"]

# Options whose value an accounts file gives per account.
CONNECTION_OPTIONS = (
    "host",
    "port",
    "username",
    "auth",
    "password",
    "access_token",
    "tls",
    "ca_file",
)


def _refuse_connection_options(ctx: click.Context) -> None:
    for name in CONNECTION_OPTIONS:
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
            flag = "--" + name.replace("_", "-")
            raise UserError(
                f"{flag} cannot be combined with --account or --all-accounts: the accounts"
                " file gives each account's connection"
            )


def sync_accounts_command(
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    choice: AccountChoice,
    options: dict[str, Any],
) -> None:
    """Sync the chosen accounts and print one summary; exit 1 if any account failed."""
    ctx = click.get_current_context()
    _refuse_connection_options(ctx)
    accounts_file = load_accounts(choice.config)
    accounts = accounts_file.select(choice.names, all_accounts=choice.all_accounts)
    overrides: dict[str, Any] = {"max_retries": options["retries"], "parser_config": parser_config}
    if options.get("prune"):
        overrides["prune"] = True
    if ctx.get_parameter_source("timeout") == ParameterSource.COMMANDLINE:
        overrides["timeout"] = options["timeout"]
    overrides.update(  # --folder, --all-folders...: for every account
        folder_choice(
            options["folders"],
            options["all_folders"],
            options["include_junk"],
            options["include_trash"],
        )
    )
    if options["workers"] is not None:
        from ._local_workers import run_local_workers

        if ALL_FOLDERS in overrides.get("folders", ()):
            raise UserError("--workers takes named folders: --all-folders is not queued yet")
        result, workers = run_local_workers(
            paths, parser_config, accounts_file.path, accounts, options["workers"], overrides
        )
        _report(result, {"workers": workers})
        return
    with (
        paths.atlas(parser_config) as atlas,
        ProgressBar(progress_enabled(quiet), "sync imap") as bar,
    ):
        done: dict[tuple[str, str], int] = {}
        totals: dict[tuple[str, str], int] = {}

        def progress(account: str, folder: str, folder_done: int, folder_total: int) -> None:
            done[account, folder], totals[account, folder] = folder_done, folder_total
            bar.set_total(sum(totals.values()))
            bar.set_description(f"sync {account} {folder}")
            bar.advance(sum(done.values()), {})

        try:
            result = atlas.sync_accounts(accounts, progress=progress, **overrides)
        except AccountsInterrupted as stopped:
            result = stopped.result
    _report(result)


def _report(result: AccountsSyncResult, extra: dict[str, Any] | None = None) -> None:
    emit_json({**result.to_dict(), **(extra or {})})
    ctx = click.get_current_context()
    if result.interrupted:
        stored = sum(a.result.ingested_count for a in result.accounts)
        click.echo(f"interrupted: {stored:,} stored; rerun to resume", err=True)
        ctx.exit(INTERRUPTED_EXIT)
    failed = result.failed_accounts
    if failed:
        reasons = "; ".join(f"{a.account}: {_reason(a)}" for a in failed)
        click.echo(
            f"Error: {len(failed)} of {len(result.accounts)} account(s) not synced fully: "
            f"{reasons}",
            err=True,
        )
        ctx.exit(1)


def _reason(entry: AccountResult) -> str:
    if entry.error:
        return entry.error.removeprefix(f"account {entry.account!r}: ")
    folders = [f"{f.folder}: {f.error}" for f in entry.result.folders if f.error]
    return ", ".join(folders) or f"{entry.result.failed_count} message(s) failed"
