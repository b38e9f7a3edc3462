"""Running the MCP server: stdio, or Streamable HTTP bound to a loopback address only."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from mailatlas_core import MailAtlasError

from .._atlas import MailAtlas

__all__ = ["LoopbackOnlyError", "check_loopback", "serve"]


class LoopbackOnlyError(MailAtlasError, ValueError):
    """``--http`` was asked to listen on an address other hosts can reach (a usage error)."""

    exit_code = 2


def check_loopback(host: str) -> str:
    """``host`` if it is a loopback address (or ``localhost``); else a LoopbackOnlyError.

    The server has no authentication: on any other address, anyone who can reach it
    could read the whole mail archive.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoopbackOnlyError(
            f"--host {host}: the MCP server listens on loopback addresses only (127.0.0.1, "
            "::1, localhost), as it has no authentication; reach it from elsewhere "
            "through an SSH tunnel"
        )
    return host.strip("[]")


def serve(
    atlas: MailAtlas,
    *,
    allow_sync: bool = False,
    config: Path | None = None,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    if http:
        host = check_loopback(host)
    from ._server import build_server

    server = build_server(atlas, allow_sync=allow_sync, config=config)
    if not http:
        server.run("stdio")
        return
    import anyio
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MailAtlasError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
        ) from exc
    sock.listen(64)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    app = server.streamable_http_app(host=host)
    config_ = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"mailatlas mcp: serving at http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    anyio.run(uvicorn.Server(config_).serve, [sock])
