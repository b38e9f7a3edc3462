"""Running the MCP server: stdio, or Streamable HTTP bound to a loopback address only."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mailatlas_core import MailAtlasError

from .._atlas import MailAtlas

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

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


def _same_host_only(shown: str) -> TransportSecuritySettings:
    """Requests must name this server (Host) and come from no foreign web page (Origin).

    Without it, a web page could read the archive through DNS rebinding (its own name
    resolved to our loopback address). The SDK turns this on by itself only for
    127.0.0.1, localhost and ::1; any other loopback address (127.0.0.2, ::1 spelled in
    full) must name itself here, or it would be served unprotected.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = sorted({"127.0.0.1", "localhost", "[::1]", shown})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" for h in hosts],
        allowed_origins=[f"http://{h}:*" for h in hosts],
    )


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
    app = server.streamable_http_app(host=host, transport_security=_same_host_only(shown))
    config_ = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"mailatlas mcp: serving at http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    anyio.run(uvicorn.Server(config_).serve, [sock])
