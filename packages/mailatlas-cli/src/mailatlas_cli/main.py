"""The ``mailatlas`` command: the root group and its entry point."""

from __future__ import annotations

import click

from .__about__ import __version__
from ._commands._errors import MailAtlasGroup
from ._commands._logging import install_stderr_logging
from ._commands.export import export_command
from ._commands.ingest import ingest
from ._commands.read import list_command, show_command
from ._commands.sync import sync

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.group(cls=MailAtlasGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(
    __version__, "--version", prog_name="mailatlas", message="%(prog)s %(version)s"
)
def cli() -> None:
    """MailAtlas: turn email into clean, structured, provenance-preserving documents.

    Data goes to stdout as JSON; progress, warnings and errors go to stderr. Exit
    codes: 0 success, 1 the command ran but something failed, 2 usage error.
    """
    install_stderr_logging()


cli.add_command(ingest)
cli.add_command(sync)
cli.add_command(list_command)
cli.add_command(show_command)
cli.add_command(export_command)


def main() -> None:
    """Run the ``mailatlas`` command (the console-script entry point)."""
    cli(prog_name="mailatlas")
