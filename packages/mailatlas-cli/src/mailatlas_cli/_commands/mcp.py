"""``mailatlas mcp``: serve the store to AI agents over the Model Context Protocol."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import StorePaths, store_options

__all__ = ["mcp_command"]


@click.command("mcp")
@click.option(
    "--http",
    is_flag=True,
    help="Serve Streamable HTTP on --host/--port instead of stdio (loopback only: "
    "the server has no authentication).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDR",
    help="With --http: the loopback address to listen on (127.0.0.1, ::1, localhost).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="With --http: the port (0 picks a free one; the URL is printed on stderr).",
)
@click.option(
    "--allow-sync",
    is_flag=True,
    help="Offer the sync tool, which fetches an account of the accounts file into the "
    "store. Without it the server only reads the store (and writes exports).",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    envvar="MAILATLAS_CONFIG",
    show_envvar=True,
    help="Accounts file for the sync tool. [default: ./mailatlas.toml, else "
    "$MAILATLAS_HOME/mailatlas.toml, else ~/.config/mailatlas/mailatlas.toml]",
)
@store_options
def mcp_command(
    paths: StorePaths,
    http: bool,
    host: str,
    port: int,
    allow_sync: bool,
    config: Path | None,
) -> None:
    """Run an MCP server over the store (stdio by default).

    Tools: search, get_document, get_thread, get_attachment, export_document,
    list_folders, stats, and sync with --allow-sync. Everything a tool returns from
    mail is framed as untrusted data. See docs/agents.md for client configuration.
    """
    from .._mcp import check_loopback, serve

    if http:
        check_loopback(host)  # a LoopbackOnlyError is a usage error (exit 2)
    with paths.atlas() as atlas:
        serve(atlas, allow_sync=allow_sync, config=config, http=http, host=host, port=port)
