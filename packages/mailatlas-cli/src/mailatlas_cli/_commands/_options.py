"""Shared option bundles: ``store_options``, ``cleaning_options``, ``quiet_option`` and
``accounts_options``.

Each is a plain decorator. ``store_options`` turns ``--db``/``--workspace`` into one
``paths`` argument; ``cleaning_options`` turns the six cleaning flags into one
``parser_config`` argument.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from mailatlas_clean import ParseLimits, ParserConfig

from .._atlas import MailAtlas
from ._errors import UserError

__all__ = [
    "CLEANING_FLAGS",
    "AccountChoice",
    "StorePaths",
    "accounts_options",
    "cleaning_args",
    "cleaning_options",
    "quiet_option",
    "store_options",
    "workers_option",
]

F = TypeVar("F", bound=Callable[..., Any])

HOME_ENV = "MAILATLAS_HOME"
DEFAULT_HOME = ".mailatlas"

CLEANING_FLAGS: dict[str, str] = {
    "strip_forwarded_headers": "Remove forwarded-message header blocks from the body.",
    "strip_boilerplate": "Remove newsletter boilerplate (unsubscribe, view-in-browser).",
    "strip_link_only_lines": "Drop lines that hold nothing but a link.",
    "stop_at_footer": "Cut the body at a detected footer or signature.",
    "strip_invisible_chars": "Remove zero-width and other invisible characters.",
    "normalize_whitespace": "Collapse runs of blank lines and trailing spaces.",
}


@dataclasses.dataclass(frozen=True, slots=True)
class StorePaths:
    """Where the store lives, resolved from options, environment and defaults."""

    db: Path | str  # a URL (sqlite:///..., postgresql://...) stays a string
    workspace: Path | str  # s3://BUCKET/PREFIX stays a string

    def atlas(self, parser_config: ParserConfig | None = None) -> MailAtlas:
        """The facade over this store."""
        return MailAtlas(self.db, self.workspace, parser_config)


def _location(value: str | None, default: Path) -> Path | str:
    if value is None:
        return default
    return value if "://" in value else Path(value)


def _resolve(db: str | None, workspace: str | None) -> StorePaths:
    home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)
    paths = StorePaths(_location(db, home / "store.db"), _location(workspace, home / "workspace"))
    if isinstance(paths.db, Path) and paths.db.is_dir():
        raise UserError(
            f"--db {paths.db} is a directory; it must be the SQLite database file — "
            f"pass a file path such as {paths.db / 'store.db'}"
        )
    if (
        isinstance(paths.workspace, Path)
        and paths.workspace.exists()
        and not paths.workspace.is_dir()
    ):
        raise UserError(
            f"--workspace {paths.workspace} is a file; it must be a directory — "
            "pass a directory path"
        )
    return paths


def store_options(func: F) -> F:
    """Add ``--db`` and ``--workspace``; the command receives ``paths: StorePaths``."""

    @click.option(
        "--db",
        type=click.Path(),
        envvar="MAILATLAS_DB",
        show_envvar=True,
        help="SQLite database file (or sqlite:///PATH), or postgresql://USER@HOST:PORT/DB "
        "(password from PGPASSWORD or ~/.pgpass). [default: $MAILATLAS_HOME/store.db, "
        "where MAILATLAS_HOME defaults to .mailatlas]",
    )
    @click.option(
        "--workspace",
        type=click.Path(),
        envvar="MAILATLAS_WORKSPACE",
        show_envvar=True,
        help="Workspace directory (raw mail, HTML, assets, exports), or s3://BUCKET/PREFIX "
        "(endpoint and keys from AWS_*). [default: $MAILATLAS_HOME/workspace]",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, db: str | None, workspace: str | None, **kwargs: Any) -> Any:
        return func(*args, paths=_resolve(db, workspace), **kwargs)

    return wrapper  # type: ignore[return-value]


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


class _Size(click.ParamType):  # type: ignore[type-arg]
    """A byte count: ``1048576``, ``512K``, ``512M``, ``2G``."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B")
        unit = text[-1:] if text[-1:] in "KMG" else ""
        number = text[: len(text) - len(unit)]
        if not number.isdigit() or int(number) < 1:
            self.fail(f"{value!r} is not a size like 1048576, 512K, 512M or 2G", param, ctx)
        return int(number) * _SIZE_UNITS[unit]


_SIZE = _Size()


def cleaning_options(func: F) -> F:
    """Add the six cleaning flags and the parse limits (``--max-message-size``,
    ``--parse-timeout``); the command receives ``parser_config: ParserConfig``."""
    defaults = ParserConfig()

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in CLEANING_FLAGS}
        chosen: dict[str, Any] = {name: value for name, value in flags.items() if value is not None}
        chosen["limits"] = ParseLimits(
            max_message_bytes=kwargs.pop("max_message_size"),
            time_budget_s=kwargs.pop("parse_timeout"),
        )
        return func(*args, parser_config=ParserConfig(**chosen), **kwargs)

    decorated: Callable[..., Any] = wrapper
    limits = ParseLimits()
    decorated = click.option(
        "--parse-timeout",
        type=click.FloatRange(min=0.001),
        default=limits.time_budget_s,
        show_default=True,
        metavar="SECONDS",
        help="Time one message may take to parse (plus 1 s per MB of it); a message that "
        "takes longer is recorded as failed, its raw bytes kept.",
    )(decorated)
    decorated = click.option(
        "--max-message-size",
        type=_SIZE,
        default=limits.max_message_bytes,
        metavar="SIZE",
        help="Larger messages are not parsed: recorded as failed, raw bytes kept "
        "(bytes, or with K, M, G). [default: 512M]",
    )(decorated)
    for name, help_text in reversed(CLEANING_FLAGS.items()):
        flag = name.replace("_", "-")
        state = "on" if getattr(defaults, name) else "off"
        decorated = click.option(
            f"--{flag}/--no-{flag}",
            name,
            default=None,
            help=f"{help_text} [default: {state}]",
        )(decorated)
    return decorated  # type: ignore[return-value]


def cleaning_args(config: ParserConfig) -> list[str]:
    """The options that give ``config`` to another mailatlas command (``cleaning_options``
    read back): how ``sync imap --workers`` hands its flags to its workers."""
    args = []
    for name in CLEANING_FLAGS:
        flag = name.replace("_", "-")
        args.append(f"--{flag}" if getattr(config, name) else f"--no-{flag}")
    limits = config.limits
    args += ["--max-message-size", str(limits.max_message_bytes)]
    args += ["--parse-timeout", repr(limits.time_budget_s)]
    return args


def workers_option(func: F) -> F:
    """Add ``--workers N`` (with ``--all-accounts``/``--account``: N local worker processes
    on the store's work queue); the command receives ``workers: int | None``."""
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        metavar="N",
        help="With --account or --all-accounts: sync through the store's work queue with "
        "N local worker processes (as `mailatlas worker`), folders in parallel.",
    )(func)


def quiet_option(func: F) -> F:
    """Add ``-q/--quiet``: no progress bar on stderr."""
    return click.option("-q", "--quiet", is_flag=True, help="No progress bar on stderr.")(func)


@dataclasses.dataclass(frozen=True, slots=True)
class AccountChoice:
    """Which accounts of the accounts file to use (``--config``, ``--account``,
    ``--all-accounts``); ``active`` is false when neither selector was given."""

    config: Path | None
    names: tuple[str, ...]
    all_accounts: bool

    @property
    def active(self) -> bool:
        return self.all_accounts or bool(self.names)


def accounts_options(func: F) -> F:
    """Add ``--config``, ``--account`` and ``--all-accounts``; the command receives
    ``accounts: AccountChoice``."""

    @click.option(
        "--config",
        type=click.Path(path_type=Path),
        envvar="MAILATLAS_CONFIG",
        show_envvar=True,
        help="Accounts file (TOML). [default: ./mailatlas.toml, else "
        "$MAILATLAS_HOME/mailatlas.toml, else ~/.config/mailatlas/mailatlas.toml]",
    )
    @click.option(
        "--account",
        "account_names",
        multiple=True,
        metavar="NAME",
        help="Sync this account of the accounts file; repeat for several.",
    )
    @click.option("--all-accounts", is_flag=True, help="Sync every account of the accounts file.")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        config: Path | None,
        account_names: tuple[str, ...],
        all_accounts: bool,
        **kwargs: Any,
    ) -> Any:
        if all_accounts and account_names:
            raise UserError("give --account NAME or --all-accounts, not both")
        choice = AccountChoice(config, account_names, all_accounts)
        return func(*args, accounts=choice, **kwargs)

    return wrapper  # type: ignore[return-value]
