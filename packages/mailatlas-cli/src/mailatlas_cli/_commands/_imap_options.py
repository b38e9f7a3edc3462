"""Option bundles of the IMAP commands (``sync imap``, ``watch imap``, ``folders``).

``connection_options`` adds how to reach and log in to the mailbox; ``folder_options``
adds which folders. The command then calls :func:`imap_config` with what it received.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from mailatlas_clean import ParserConfig
from mailatlas_imap import ALL_FOLDERS, AuthMode, ImapSyncConfig, TlsMode

from ._errors import UserError

__all__ = [
    "connection_options",
    "folder_choice",
    "folder_options",
    "imap_config",
    "network_options",
    "prune_option",
]

F = TypeVar("F", bound=Callable[..., Any])

IMPLICIT_TLS_PORT = 993
PLAIN_PORT = 143
DEFAULT_FOLDERS = ("INBOX",)


def _options(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def _network() -> list[Any]:
    return [
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            default=60.0,
            show_default=True,
            help="Network timeout in seconds.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=3,
            show_default=True,
            help="Reconnect attempts after a dropped connection (backing off 1, 2, 4... s).",
        ),
    ]


def network_options(func: F) -> F:
    """``--timeout`` and ``--retries`` (in :func:`connection_options` too; alone for
    ``mailatlas worker``, whose accounts file gives the connection)."""
    return _options(func, _network())


def connection_options(func: F) -> F:
    """Host, port, username, auth, credentials, TLS, CA file, timeout and retries."""
    return _options(
        func,
        [
            click.option(
                "--host",
                envvar="MAILATLAS_IMAP_HOST",
                show_envvar=True,
                help="IMAP server host name.",
            ),
            click.option(
                "--port",
                type=click.IntRange(1, 65535),
                envvar="MAILATLAS_IMAP_PORT",
                show_envvar=True,
                help="IMAP server port. [default: 993; 143 with --tls starttls or none]",
            ),
            click.option(
                "--username",
                envvar="MAILATLAS_IMAP_USERNAME",
                show_envvar=True,
                help="Login name.",
            ),
            click.option(
                "--auth",
                type=click.Choice(["password", "xoauth2"]),
                default="password",
                show_default=True,
                help="How to authenticate.",
            ),
            click.option(
                "--password",
                envvar="MAILATLAS_IMAP_PASSWORD",
                show_envvar=True,
                help="Password (prefer the environment variable: it stays out of shell "
                "history). Never stored.",
            ),
            click.option(
                "--access-token",
                envvar="MAILATLAS_IMAP_ACCESS_TOKEN",
                show_envvar=True,
                help="OAuth access token for --auth xoauth2. Never stored.",
            ),
            click.option(
                "--tls",
                type=click.Choice(["implicit", "starttls", "none"]),
                default="implicit",
                show_default=True,
                help="Transport security. Certificates are always verified; none is only "
                "allowed for a loopback host.",
            ),
            click.option(
                "--ca-file",
                type=click.Path(path_type=Path),
                envvar="MAILATLAS_IMAP_CA_FILE",
                show_envvar=True,
                help="CA certificate (PEM) for a server with a private CA.",
            ),
            *_network(),
        ],
    )


prune_option = click.option(
    "--prune",
    is_flag=True,
    help="Delete (with their files and search entries) the documents of this mailbox "
    "that are gone from every folder on the server; the summary lists them. Only "
    "after a run in which every folder synced. Without it they are kept and shown "
    "as deleted_on_server.",
)


def folder_options(func: F) -> F:
    """``--folder`` (repeatable), ``--all-folders``, ``--include-junk``, ``--include-trash``."""
    return _options(
        func,
        [
            click.option(
                "--folder",
                "folders",
                multiple=True,
                help="Folder to fetch; repeat for several. INBOX is case-insensitive; '*' "
                "means every folder (as --all-folders). [default: INBOX]",
            ),
            click.option(
                "--all-folders",
                is_flag=True,
                help="Every selectable folder the server lists, except the ones it marks "
                "as Junk or Trash (SPECIAL-USE) unless --include-junk/--include-trash or "
                "named with --folder.",
            ),
            click.option(
                "--include-junk",
                is_flag=True,
                help="With --all-folders, also the folder the server marks as Junk.",
            ),
            click.option(
                "--include-trash",
                is_flag=True,
                help="With --all-folders, also the folder the server marks as Trash.",
            ),
        ],
    )


def _require(value: str | None, what: str, option: str, envvar: str) -> str:
    if not value:
        raise UserError(f"no IMAP {what} given — pass {option} or set {envvar}")
    return value


def imap_config(
    *,
    host: str | None,
    port: int | None,
    username: str | None,
    auth: str,
    password: str | None,
    access_token: str | None,
    tls: str,
    ca_file: Path | None,
    timeout: float,
    retries: int,
    parser_config: ParserConfig | None = None,
    folders: tuple[str, ...] = (),
    all_folders: bool = False,
    include_junk: bool = False,
    include_trash: bool = False,
    prune: bool = False,
) -> ImapSyncConfig:
    """The :class:`ImapSyncConfig` of the options; a missing credential is a usage error."""
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
    chosen = folder_choice(folders, all_folders, include_junk, include_trash)
    if port is None:
        port = IMPLICIT_TLS_PORT if tls == "implicit" else PLAIN_PORT
    return ImapSyncConfig(
        host=host,
        port=port,
        username=username,
        auth=cast(AuthMode, auth),
        password=password if auth == "password" else None,
        access_token=access_token if auth == "xoauth2" else None,
        tls=cast(TlsMode, tls),
        ca_file=str(ca_file) if ca_file is not None else None,
        timeout=timeout,
        max_retries=retries,
        parser_config=parser_config or ParserConfig(),
        prune=prune,
        **{"folders": DEFAULT_FOLDERS, **chosen},
    )


def folder_choice(
    folders: tuple[str, ...], all_folders: bool, include_junk: bool, include_trash: bool
) -> dict[str, Any]:
    """The :class:`ImapSyncConfig` folder fields the folder options ask for; ``{}`` when
    none was given (the default, or an accounts file's own folders, then apply)."""
    if (include_junk or include_trash) and not (all_folders or ALL_FOLDERS in folders):
        raise UserError(
            "--include-junk and --include-trash go with --all-folders — name a Junk or "
            "Trash folder with --folder to sync it alone"
        )
    if all_folders:
        folders = (ALL_FOLDERS, *(f for f in folders if f != ALL_FOLDERS))
    if not folders:
        return {}
    return {"folders": folders, "include_junk": include_junk, "include_trash": include_trash}
