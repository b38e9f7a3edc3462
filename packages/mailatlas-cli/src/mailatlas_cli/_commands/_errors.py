"""The one place where library errors become command-line errors.

Usage errors (the user can fix the command: no such store or document, a path of the
wrong kind, a missing credential) exit 2; anything else that went wrong exits 1. Either
way the user sees a single line, ``Error: <what> — <what to do>``, and no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
from mailatlas_core import DocumentNotFoundError, MailAtlasError, StoreNotFoundError
from mailatlas_imap import ImapAuthError, ImapConfigError, ImapConnectionError

from ..errors import ExportPathError

__all__ = ["MailAtlasGroup", "UserError", "message_of", "translate"]

_USAGE_ERRORS: tuple[type[MailAtlasError], ...] = (
    StoreNotFoundError,
    DocumentNotFoundError,
    ExportPathError,
    ImapConfigError,
)


class UserError(click.ClickException):
    """A usage error shown as one line, exit code 2.

    Not a ``click.UsageError``: click would attach the command's usage banner to it,
    and the user needs the one line that says what to fix.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


def _one_line(message: str) -> str:
    return " ".join(message.split()) or "something went wrong"


def _hint(exc: MailAtlasError) -> str:
    """What to do, for errors whose library message says only what went wrong."""
    if isinstance(exc, ImapAuthError):
        return "check --username and the password or access token, then rerun"
    if isinstance(exc, ImapConnectionError) and exc.retryable:
        return "check --host, --port and --tls and that the server is reachable, then rerun"
    return ""


def message_of(exc: MailAtlasError) -> str:
    """The one line shown for ``exc`` (after ``Error:``)."""
    text = _one_line(str(exc) or type(exc).__name__)
    hint = _hint(exc)
    return f"{text} — {hint}" if hint else text


def translate(exc: MailAtlasError) -> click.ClickException:
    """The click exception (and so the exit code and message) for a library error."""
    if isinstance(exc, _USAGE_ERRORS):
        return UserError(message_of(exc))
    return click.ClickException(message_of(exc))


class MailAtlasGroup(click.Group):
    """The root group: runs a command and translates any MailAtlas error it raises.

    Commands are listed in the order they were added (the order of a workflow:
    ingest, sync, list, show, export), not alphabetically.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MailAtlasError as exc:
            raise translate(exc) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; click's own usage errors also become one line (exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "mailatlas"
            click.echo(f"Error: {_one_line(exc.format_message())} — see '{where} --help'", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        sys.exit(rv if isinstance(rv, int) else 0)
