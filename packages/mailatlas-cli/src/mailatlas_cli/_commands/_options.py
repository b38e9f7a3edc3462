"""Shared option bundles: ``store_options``, ``cleaning_options`` and ``quiet_option``.

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
from mailatlas_clean import ParserConfig

from ..atlas import MailAtlas
from ._errors import UserError

__all__ = [
    "CLEANING_FLAGS",
    "StorePaths",
    "cleaning_options",
    "quiet_option",
    "store_options",
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

    db: Path
    workspace: Path

    def atlas(self, parser_config: ParserConfig | None = None) -> MailAtlas:
        """The facade over this store."""
        return MailAtlas(self.db, self.workspace, parser_config)


def _resolve(db: Path | None, workspace: Path | None) -> StorePaths:
    home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)
    paths = StorePaths(db or home / "store.db", workspace or home / "workspace")
    if paths.db.is_dir():
        raise UserError(
            f"--db {paths.db} is a directory; it must be the SQLite database file — "
            f"pass a file path such as {paths.db / 'store.db'}"
        )
    if paths.workspace.exists() and not paths.workspace.is_dir():
        raise UserError(
            f"--workspace {paths.workspace} is a file; it must be a directory — "
            "pass a directory path"
        )
    return paths


def store_options(func: F) -> F:
    """Add ``--db`` and ``--workspace``; the command receives ``paths: StorePaths``."""

    @click.option(
        "--db",
        type=click.Path(path_type=Path),
        envvar="MAILATLAS_DB",
        show_envvar=True,
        help="SQLite database file. [default: $MAILATLAS_HOME/store.db, "
        "where MAILATLAS_HOME defaults to .mailatlas]",
    )
    @click.option(
        "--workspace",
        type=click.Path(path_type=Path),
        envvar="MAILATLAS_WORKSPACE",
        show_envvar=True,
        help="Workspace directory (raw mail, HTML, assets, exports). "
        "[default: $MAILATLAS_HOME/workspace]",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, db: Path | None, workspace: Path | None, **kwargs: Any) -> Any:
        return func(*args, paths=_resolve(db, workspace), **kwargs)

    return wrapper  # type: ignore[return-value]


def cleaning_options(func: F) -> F:
    """Add the six cleaning flags; the command receives ``parser_config: ParserConfig``."""
    defaults = ParserConfig()

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in CLEANING_FLAGS}
        chosen = {name: value for name, value in flags.items() if value is not None}
        return func(*args, parser_config=ParserConfig(**chosen), **kwargs)

    decorated: Callable[..., Any] = wrapper
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


def quiet_option(func: F) -> F:
    """Add ``-q/--quiet``: no progress bar on stderr."""
    return click.option("-q", "--quiet", is_flag=True, help="No progress bar on stderr.")(func)
