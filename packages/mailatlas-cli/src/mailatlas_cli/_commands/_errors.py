"""The one place where library errors become command-line errors.

Usage errors (the user can fix the command: no such store or document, a path of the
wrong kind, a missing credential) exit 2; anything else that went wrong exits 1. Each
error class declares which it is (``MailAtlasError.exit_code``) and what to do
(``hint``), so nothing here depends on where an error comes from. Either
way the user sees a single line, ``Error: <what> — <what to do>``, and no traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click
from click.exceptions import NoArgsIsHelpError
from mailatlas_core import MailAtlasError

__all__ = ["INTERRUPTED_EXIT", "MailAtlasGroup", "UserError", "message_of", "translate"]

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


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


def message_of(exc: MailAtlasError) -> str:
    """The one line shown for ``exc`` (after ``Error:``)."""
    text = _one_line(str(exc) or type(exc).__name__)
    return f"{text} — {exc.hint}" if exc.hint else text


def translate(exc: MailAtlasError) -> click.ClickException:
    """The click exception (and so the exit code and message) for a library error.

    Each error class says whether it is a usage error (``exit_code`` 2) or a failure.
    """
    if exc.exit_code == UserError.exit_code:
        return UserError(message_of(exc))
    return click.ClickException(message_of(exc))


class MailAtlasGroup(click.Group):
    """The root group: runs a command and translates any MailAtlas error it raises.

    Subcommands are named up front and imported when used (``lazy_commands``: name to
    ``"module:attribute"``), so `mailatlas list` never loads the ingest, sync or export
    code. They are listed in the order given (a workflow: ingest, sync, list, show,
    export), not alphabetically.
    """

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy_commands, *(n for n in self.commands if n not in self.lazy_commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is not None and cmd_name not in self.commands:
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{target} is not the {cmd_name!r} command")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

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
        except NoArgsIsHelpError as exc:
            # `mailatlas`, `mailatlas ingest`: the whole help, as click shows it (exit 2).
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "mailatlas"
            click.echo(f"Error: {_one_line(exc.format_message())} — see '{where} --help'", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:  # Ctrl-C before a command could print its own summary
            click.echo("interrupted: nothing stored by this run", err=True)
            sys.exit(INTERRUPTED_EXIT)
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        sys.exit(rv if isinstance(rv, int) else 0)
