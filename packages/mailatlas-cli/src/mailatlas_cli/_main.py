"""The ``mailatlas`` command: the root group and its entry point."""

from __future__ import annotations

import atexit
import gc

import click

from .__about__ import __version__
from ._commands._errors import MailAtlasGroup

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

# Imported only when run (or for --help): `list` and `show` must start fast.
COMMANDS = {
    "ingest": "mailatlas_cli._commands.ingest:ingest",
    "sync": "mailatlas_cli._commands.sync:sync",
    "watch": "mailatlas_cli._commands.watch:watch",
    "folders": "mailatlas_cli._commands.folders:folders_command",
    "list": "mailatlas_cli._commands.read:list_command",
    "show": "mailatlas_cli._commands.read:show_command",
    "thread": "mailatlas_cli._commands.read:thread_command",
    "export": "mailatlas_cli._commands.export:export_command",
    "failures": "mailatlas_cli._commands.housekeeping:failures_command",
    "stats": "mailatlas_cli._commands.housekeeping:stats_command",
    "delete": "mailatlas_cli._commands.housekeeping:delete_command",
    "attachment-text": "mailatlas_cli._commands.housekeeping:attachment_text_command",
    "worker": "mailatlas_cli._commands.worker:worker_command",
    "mcp": "mailatlas_cli._commands.mcp:mcp_command",
}
# Commands that only read the store: they log nothing, so logging is not even imported.
READ_ONLY = frozenset({"list", "show", "thread", "failures", "stats"})


@click.group(cls=MailAtlasGroup, context_settings=CONTEXT_SETTINGS, lazy_commands=COMMANDS)
@click.version_option(
    __version__, "--version", prog_name="mailatlas", message="%(prog)s %(version)s"
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """MailAtlas: turn email into clean, structured, provenance-preserving documents.

    Data goes to stdout as JSON; progress, warnings and errors go to stderr. Exit
    codes: 0 success, 1 the command ran but something failed, 2 usage error.
    """
    if ctx.invoked_subcommand not in READ_ONLY:  # nothing logs while reading the store
        from ._commands._logging import install_stderr_logging

        install_stderr_logging()


def main() -> None:
    """Run the ``mailatlas`` command (the console-script entry point)."""
    # Registered first, so it runs last: tearing the interpreter down then skips full
    # garbage collections over every object left (botocore's models alone are large),
    # which cost a sync worker 0.4-1.3 s of exit on a loaded machine. Stores and files
    # are closed by their owners before this; nothing waits for the collector.
    atexit.register(gc.freeze)
    cli(prog_name="mailatlas")
