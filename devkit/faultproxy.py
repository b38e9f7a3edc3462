"""A fault-injecting TCP proxy on loopback, for connection-failure tests.

It forwards every accepted connection to an upstream ``host:port`` (e.g. Dovecot) and
can break the next connections in two ways, counted in bytes sent by the server::

    with FaultProxy("127.0.0.1", server.imap_port) as proxy:
        proxy.cut_after(200_000)        # next connection: close both ends after 200 kB
        proxy.stall_after(50_000)       # next connection: stop forwarding, keep it open
        connect to ("127.0.0.1", proxy.port) ...

Faults are armed for ``connections`` accepted connections (default one), then the proxy
forwards faithfully again, so a client that reconnects gets through. TLS passes through
untouched (the proxy never decrypts), so certificate checks still hold. Pure stdlib.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from types import TracebackType

__all__ = ["FaultProxy"]


@dataclass
class _Fault:
    kind: str  # "cut" | "stall"
    after: int
    connections: int


class FaultProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; inject cuts and stalls on demand."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._fault: _Fault | None = None
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self.connections = 0
        self.faults_injected = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # -- arming --------------------------------------------------------------------------
    def cut_after(self, nbytes: int, *, connections: int = 1) -> None:
        """Close both ends once the server has sent ``nbytes`` on a connection."""
        with self._lock:
            self._fault = _Fault("cut", nbytes, connections)

    def stall_after(self, nbytes: int, *, connections: int = 1) -> None:
        """Stop forwarding (both ways) after ``nbytes`` from the server; keep sockets open."""
        with self._lock:
            self._fault = _Fault("stall", nbytes, connections)

    def clear(self) -> None:
        """Forward faithfully from now on (for new connections)."""
        with self._lock:
            self._fault = None

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None:
                return None
            fault.connections -= 1
            if fault.connections <= 0:
                self._fault = None
            return _Fault(fault.kind, fault.after, 1)

    # -- plumbing ------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += 1
            fault = self._take_fault()
            stalled = threading.Event()
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(
                target=self._pump, args=(upstream, client, fault, stalled), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(client, upstream, None, stalled), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        fault: _Fault | None,
        stalled: threading.Event,
    ) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if stalled.is_set():
                    continue  # stalled: swallow everything, forward nothing
                if fault is not None and sent + len(data) >= fault.after:
                    data = data[: max(fault.after - sent, 0)]
                    if data:
                        dst.sendall(data)
                    self.faults_injected += 1
                    if fault.kind == "stall":
                        stalled.set()
                        self._closed.wait()
                        return
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        """Stop accepting and close every proxied connection."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks, self._sockets = self._sockets, []
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
