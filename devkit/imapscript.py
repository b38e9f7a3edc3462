"""A scripted IMAP server on loopback, for hostile- and broken-server tests.

It speaks just enough IMAP4rev1 for a MailAtlas sync (CAPABILITY, LOGIN, AUTHENTICATE
XOAUTH2, ENABLE, EXAMINE, UID SEARCH, UID FETCH, NOOP, LOGOUT) over plaintext, and lets
a test replace the answer to any command with its own behaviour. The real Dovecot stays
the proof of normal behaviour; this plays the servers Dovecot will not imitate::

    with ScriptedImap([raw1, raw2], uidvalidity="abc") as server:
        server.on("UID FETCH", lambda conn, tag, args: conn.drip(b"* 1 FETCH (", 0.2))
        ImapSyncConfig(host="127.0.0.1", port=server.port, tls="none", ...)

A handler gets the connection, the command's tag and the rest of its line; it writes
whatever it likes with ``conn.send`` / ``conn.drip`` and may fall back to the default
answer with ``conn.default(tag, args)``. ``server.commands`` records every command line
received (``server.auth_lines`` the lines sent during AUTHENTICATE). Pure stdlib.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

__all__ = ["Conn", "Handler", "ScriptedImap"]

Handler = Callable[["Conn", str, str], None]
CAPABILITIES = "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 LITERAL+ ENABLE"
DATE = '"01-Jan-2024 10:00:00 +0000"'


def _quoted_args(text: str) -> list[str]:
    """The atoms and quoted strings of a command's arguments, unescaped."""
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        out.append(re.sub(r"\\(.)", r"\1", m.group(1)) if m.group(1) is not None else m.group(2))
    return out


def _in_set(number: int, spec: str, top: int) -> bool:
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        a = top if lo == "*" else int(lo)
        b = a if not hi else (top if hi == "*" else int(hi))
        if min(a, b) <= number <= max(a, b):
            return True
    return False


class Conn:
    """One client connection: what a handler may do."""

    def __init__(self, server: ScriptedImap, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.file = sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def drip(self, data: bytes, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart (until closed)."""
        for i in range(len(data)):
            if self.server.closed.wait(every):
                return
            self.send(data[i : i + 1])

    def readline(self) -> bytes:
        return self.file.readline(1 << 20)

    def tagged(self, tag: str, status: str = "OK", text: str = "done") -> None:
        self.send(f"{tag} {status} {text}\r\n".encode())

    def default(self, tag: str, args: str, command: str) -> None:
        """The normal answer to ``command``."""
        getattr(self, "_" + command.replace(" ", "_").lower(), self._unknown)(tag, args)

    # -- default answers ----------------------------------------------------------------
    def _unknown(self, tag: str, args: str) -> None:
        self.tagged(tag, "BAD", "unknown command")

    def _capability(self, tag: str, args: str) -> None:
        self.send(f"* CAPABILITY {self.server.capabilities}\r\n".encode())
        self.tagged(tag)

    def _noop(self, tag: str, args: str) -> None:
        self.tagged(tag)

    def _enable(self, tag: str, args: str) -> None:
        self.tagged(tag)

    def _login(self, tag: str, args: str) -> None:
        user, password = [*_quoted_args(args), "", ""][:2]
        if self.server.users.get(user) == password:
            self.tagged(tag, "OK", "logged in")
        else:
            self.tagged(tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed.")

    def _authenticate(self, tag: str, args: str) -> None:
        self.send(b"+ \r\n")
        self.server.auth_lines.append(self.readline().decode(errors="replace").strip())
        self.tagged(tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed.")

    def _examine(self, tag: str, args: str) -> None:
        s = self.server
        self.send(
            f"* {len(s.uids)} EXISTS\r\n* OK [UIDVALIDITY {s.uidvalidity}] UIDs valid\r\n"
            f"* OK [UIDNEXT {max(s.uids, default=0) + 1}] next\r\n".encode()
        )
        self.tagged(tag, "OK", "[READ-ONLY] examined")

    _select = _examine

    def _uid_search(self, tag: str, args: str) -> None:
        uids = self.server.uids
        words = args.split()
        hits = []
        for seq, uid in enumerate(uids, 1):
            ok, i = True, 0
            while i < len(words):
                word = words[i].upper()
                if word == "UID":
                    ok &= _in_set(uid, words[i + 1], max(uids))
                    i += 2
                    continue
                if word != "ALL":
                    ok &= _in_set(seq, word, len(uids))
                i += 1
            if ok:
                hits.append(str(uid))
        self.send(("* SEARCH " + " ".join(hits)).rstrip().encode() + b"\r\n")
        self.tagged(tag)

    def _uid_fetch(self, tag: str, args: str) -> None:
        spec, _, items = args.partition(" ")
        uids = self.server.uids
        for seq, uid in enumerate(uids, 1):
            if _in_set(uid, spec, max(uids)):
                self.send(self.server.fetch_reply(seq, uid, items))
        self.tagged(tag)

    def _logout(self, tag: str, args: str) -> None:
        self.send(b"* BYE logging out\r\n")
        self.tagged(tag)


class ScriptedImap:
    """The server: ``messages`` get ``uids`` (default 1, 2, ...) in one folder."""

    def __init__(
        self,
        messages: Sequence[bytes] = (),
        *,
        uids: Sequence[int] | None = None,
        uidvalidity: str = "1",
        users: dict[str, str] | None = None,
        capabilities: str = CAPABILITIES,
        greeting: bytes = b"* OK scripted IMAP ready\r\n",
    ) -> None:
        self.messages = list(messages)
        self.uids = list(uids) if uids is not None else list(range(1, len(self.messages) + 1))
        self.uidvalidity = uidvalidity
        self.users = dict(users or {"user": "secret"})
        self.capabilities = capabilities
        self.greeting = greeting
        self.handlers: dict[str, Handler] = {}
        self.commands: list[str] = []
        self.auth_lines: list[str] = []
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def on(self, command: str, handler: Handler) -> None:
        """Answer ``command`` (e.g. ``"LOGIN"``, ``"UID FETCH"``) with ``handler``."""
        self.handlers[command.upper()] = handler

    def fetch_reply(self, seq: int, uid: int, items: str) -> bytes:
        """The normal untagged FETCH response for one message and the requested items."""
        raw = self.messages[self.uids.index(uid)]
        parts = [f"UID {uid}".encode()]
        upper = items.upper()
        if "RFC822.SIZE" in upper:
            parts.append(f"RFC822.SIZE {len(raw)}".encode())
        if "INTERNALDATE" in upper:
            parts.append(f"INTERNALDATE {DATE}".encode())
        if "FLAGS" in upper:
            parts.append(b"FLAGS ()")
        if "HEADER.FIELDS" in upper:
            head = b"".join(
                line + b"\r\n"
                for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                if line.lower().startswith(b"message-id:")
            )
            head += b"\r\n"
            parts.append(b"BODY[HEADER.FIELDS (MESSAGE-ID)] {%d}\r\n" % len(head) + head)
        elif "BODY.PEEK[]" in upper:
            parts.append(b"BODY[] {%d}\r\n" % len(raw) + raw)
        return b"* %d FETCH (" % seq + b" ".join(parts) + b")\r\n"

    # -- plumbing ------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        conn = Conn(self, sock)
        with contextlib.suppress(OSError, ValueError):
            conn.send(self.greeting)
            while not self.closed.is_set():
                line = conn.readline()
                if not line:
                    break
                text = line.decode(errors="replace").rstrip("\r\n")
                self.commands.append(text)
                tag, _, rest = text.partition(" ")
                command, _, args = rest.partition(" ")
                command = command.upper()
                if command == "UID":
                    sub, _, args = args.partition(" ")
                    command = f"UID {sub.upper()}"
                handler = self.handlers.get(command)
                if handler is not None:
                    handler(conn, tag, args)
                else:
                    conn.default(tag, args, command)
                if command == "LOGOUT":
                    break
        with contextlib.suppress(OSError):
            sock.close()

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> ScriptedImap:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
