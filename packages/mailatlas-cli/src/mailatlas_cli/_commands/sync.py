"""``mailatlas sync imap``: fetch folders from a live mailbox, incrementally."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click
from mailatlas_clean import ParserConfig
from mailatlas_imap import ImapAuthError, ImapConnectionError, ImapSyncConfig, SyncInterrupted
from mailatlas_imap.config import AuthMode, TlsMode
from mailatlas_imap.errors import cli_spelling

from ..atlas import unstarted_sync
from ._errors import INTERRUPTED_EXIT, UserError
from ._options import (
    AccountChoice,
    StorePaths,
    accounts_options,
    cleaning_options,
    quiet_option,
    store_options,
)
from ._output import ProgressBar, emit_json, progress_enabled

__all__ = ["sync"]

IMPLICIT_TLS_PORT = 993
PLAIN_PORT = 143


@click.group()
def sync() -> None:
    """Fetch mail from a live mailbox into the store."""


def _require(value: str | None, what: str, option: str, envvar: str) -> str:
    if not value:
        raise UserError(f"no IMAP {what} given — pass {option} or set {envvar}")
    return value


def _config(
    host: str | None,
    port: int | None,
    username: str | None,
    auth: str,
    password: str | None,
    access_token: str | None,
    folders: tuple[str, ...],
    tls: str,
    ca_file: Path | None,
    timeout: float,
    retries: int,
    parser_config: ParserConfig,
) -> ImapSyncConfig:
    host = _require(host, "host", "--host", "MAILATLAS_IMAP_HOST")
    username = _require(username, "username", "--username", "MAILATLAS_IMAP_USERNAME")
    if auth == "password" and not password:
        raise UserError(
            "no IMAP password given — set MAILATLAS_IMAP_PASSWORD or pass --password "
            "(for OAuth use --auth xoauth2 with MAILATLAS_IMAP_ACCESS_TOKEN)"
        )
    if auth == "xoauth2" and not access_token:
        raise UserError(
            "no OAuth access token given — set MAILATLAS_IMAP_ACCESS_TOKEN or pass "
            "--access-token (MailAtlas does not run an OAuth login flow)"
        )
    if ca_file is not None and not ca_file.is_file():
        what = "is a directory" if ca_file.is_dir() else "does not exist"
        raise UserError(f"--ca-file {ca_file} {what} — pass the CA certificate file (PEM)")
    if port is None:
        port = IMPLICIT_TLS_PORT if tls == "implicit" else PLAIN_PORT
    return ImapSyncConfig(
        host=host,
        port=port,
        username=username,
        auth=cast(AuthMode, auth),
        password=password if auth == "password" else None,
        access_token=access_token if auth == "xoauth2" else None,
        folders=folders,
        tls=cast(TlsMode, tls),
        ca_file=str(ca_file) if ca_file is not None else None,
        timeout=timeout,
        max_retries=retries,
        parser_config=parser_config,
    )


@sync.command("imap")
@click.option(
    "--host", envvar="MAILATLAS_IMAP_HOST", show_envvar=True, help="IMAP server host name."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    envvar="MAILATLAS_IMAP_PORT",
    show_envvar=True,
    help="IMAP server port. [default: 993; 143 with --tls starttls or none]",
)
@click.option("--username", envvar="MAILATLAS_IMAP_USERNAME", show_envvar=True, help="Login name.")
@click.option(
    "--auth",
    type=click.Choice(["password", "xoauth2"]),
    default="password",
    show_default=True,
    help="How to authenticate.",
)
@click.option(
    "--password",
    envvar="MAILATLAS_IMAP_PASSWORD",
    show_envvar=True,
    help="Password (prefer the environment variable: it stays out of shell history). Never stored.",
)
@click.option(
    "--access-token",
    envvar="MAILATLAS_IMAP_ACCESS_TOKEN",
    show_envvar=True,
    help="OAuth access token for --auth xoauth2. Never stored.",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    default=("INBOX",),
    show_default=True,
    help="Folder to fetch; repeat for several.",
)
@click.option(
    "--tls",
    type=click.Choice(["implicit", "starttls", "none"]),
    default="implicit",
    show_default=True,
    help="Transport security. Certificates are always verified; none is only "
    "allowed for a loopback host.",
)
@click.option(
    "--ca-file",
    type=click.Path(path_type=Path),
    envvar="MAILATLAS_IMAP_CA_FILE",
    show_envvar=True,
    help="CA certificate (PEM) for a server with a private CA.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Network timeout in seconds.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Reconnect attempts after a dropped connection (backing off 1, 2, 4... s).",
)
@accounts_options
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
    """Fetch folders from an IMAP mailbox; reruns fetch only new mail.

    Prints one JSON summary (status ok, partial or error; per-folder results with
    document_refs of the new documents). Exits 1 unless every folder succeeded.
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
    with cli_spelling():  # library messages name --ca-file, --tls none...
        _sync(paths, parser_config, quiet, options)


def _sync(paths: StorePaths, parser_config: ParserConfig, quiet: bool, options: Any) -> None:
    config = _config(parser_config=parser_config, **options)
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
