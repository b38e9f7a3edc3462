"""A scripted IMAP server on loopback, for hostile- and broken-server tests.

It speaks just enough IMAP4rev1 for a MailAtlas sync (CAPABILITY, LOGIN, AUTHENTICATE
XOAUTH2, ENABLE, LIST, STATUS, EXAMINE, UID SEARCH, UID FETCH, IDLE, NOOP, LOGOUT) over
plaintext, and lets a test replace the answer to any command with its own behaviour.
The real Dovecot stays the proof of normal behaviour; this plays the servers Dovecot will
not imitate (and replays what others, such as Gmail, were recorded answering)::

    with ScriptedImap([raw1, raw2], uidvalidity="abc") as server:
        server.on("UID FETCH", lambda conn, tag, args: conn.drip(b"* 1 FETCH (", 0.2))
        ImapSyncConfig(host="127.0.0.1", port=server.port, tls="none", ...)

A handler gets the connection, the command's tag and the rest of its line; it writes
whatever it likes with ``conn.send`` / ``conn.drip`` and may fall back to the default
answer with ``conn.default(tag, args)``. ``server.commands`` records every command line
received (``server.auth_lines`` the lines sent during AUTHENTICATE). ``messages`` live in
INBOX; ``server.add_folder`` adds more folders, each with LIST attributes and, per UID,
extra FETCH items (``X-GM-MSGID ...``) sent whenever a FETCH asks for them. Pure stdlib.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

_EXISTS = re.compile(rb"^\* (\d+) EXISTS\r?$", re.MULTILINE)

__all__ = ["Conn", "Handler", "ScriptFolder", "ScriptedImap"]

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


@dataclass
class ScriptFolder:
    """One folder's messages and what the server says about it."""

    messages: list[bytes]
    uids: list[int]
    uidvalidity: str = "1"
    attributes: tuple[str, ...] = ()
    extra: dict[int, bytes] = field(default_factory=dict)  # uid -> b"X-GM-MSGID 1 ..."


class Conn:
    """One client connection: what a handler may do."""

    def __init__(self, server: ScriptedImap, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.file = sock.makefile("rb")
        self.selected = "INBOX"
        self.told = -1  # the message count this connection was last told (EXISTS)

    @property
    def box(self) -> ScriptFolder:
        """The selected folder."""
        return self.server.folder(self.selected)

    def send(self, data: bytes) -> None:
        if len(data) < 4096:  # untagged status lines, never a message body
            for count in _EXISTS.findall(data):
                self.told = int(count)
        self.sock.sendall(data)

    def report_size(self) -> None:
        """Tell the client of mail that arrived since it was last told, as a real server
        does in its next response (RFC 3501 7.3.1): a message announced to the
        connections in IDLE while this one was between two IDLEs is not lost."""
        if self.told >= 0 and len(self.box.uids) != self.told:
            self.send(f"* {len(self.box.uids)} EXISTS\r\n".encode())

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
        with self.server.lock:
            self.report_size()
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
        name = ([*_quoted_args(args), "INBOX"])[0]
        if name.upper() == "INBOX":
            name = "INBOX"
        if name not in self.server.folder_names():
            self.tagged(tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: " + name)
            return
        self.selected = name
        box = self.box
        self.send(
            f"* {len(box.uids)} EXISTS\r\n* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid\r\n"
            f"* OK [UIDNEXT {max(box.uids, default=0) + 1}] next\r\n".encode()
        )
        self.tagged(tag, "OK", "[READ-ONLY] examined")

    _select = _examine

    def _list(self, tag: str, args: str) -> None:
        for name in self.server.folder_names():
            attrs = " ".join(self.server.folder(name).attributes)
            quoted = name.replace("\\", "\\\\").replace('"', '\\"')
            self.send(f'* LIST ({attrs}) "/" "{quoted}"\r\n'.encode())
        self.tagged(tag)

    def _status(self, tag: str, args: str) -> None:
        quoted = _quoted_args(args)
        name = "INBOX" if quoted[0].upper() == "INBOX" else quoted[0]
        if name not in self.server.folder_names():
            self.tagged(tag, "NO", "[NONEXISTENT] Mailbox doesn't exist: " + name)
            return
        box = self.server.folder(name)
        values = {
            "MESSAGES": len(box.uids),
            "UIDNEXT": max(box.uids, default=0) + 1,
            "UIDVALIDITY": box.uidvalidity,
            "UNSEEN": len(box.uids),
            "RECENT": 0,
        }
        asked = re.findall(r"[A-Z]+", args[args.find("(") :].upper())
        items = " ".join(f"{k} {values[k]}" for k in asked if k in values)
        self.send(f'* STATUS "{name}" ({items})\r\n'.encode())
        self.tagged(tag)

    def _uid_search(self, tag: str, args: str) -> None:
        uids = self.box.uids
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
        uids = self.box.uids
        for seq, uid in enumerate(uids, 1):
            if _in_set(uid, spec, max(uids)):
                self.send(self.server.fetch_reply(seq, uid, items, self.selected))
        self.tagged(tag)

    def _idle(self, tag: str, args: str) -> None:
        """Wait for DONE; meanwhile a test may ``send`` lines to ``server.idling``."""
        self.send(b"+ idling\r\n")
        with self.server.lock:  # one lock with the announcer: told here or by it
            self.server.idling.append(self)
            self.report_size()
        try:
            line = self.readline()
        finally:
            with self.server.lock:
                self.server.idling.remove(self)
        if line.strip().upper() == b"DONE":
            self.server.commands.append("DONE")
            self.tagged(tag, "OK", "Idle completed.")

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
        self.folders: dict[str, ScriptFolder] = {}
        self.inbox_attributes: tuple[str, ...] = ("\\HasNoChildren",)
        self.inbox_extra: dict[int, bytes] = {}
        self.quote_header_fields = False  # answer BODY[HEADER.FIELDS ("MESSAGE-ID" ...)]
        self.idling: list[Conn] = []  # connections in IDLE now
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def on(self, command: str, handler: Handler) -> None:
        """Answer ``command`` (e.g. ``"LOGIN"``, ``"UID FETCH"``) with ``handler``."""
        self.handlers[command.upper()] = handler

    def add_folder(
        self,
        name: str,
        messages: Sequence[bytes] = (),
        *,
        uids: Sequence[int] | None = None,
        uidvalidity: str = "1",
        attributes: Sequence[str] = ("\\HasNoChildren",),
    ) -> ScriptFolder:
        """Add a folder besides INBOX (``attributes`` as LIST shows them)."""
        box = ScriptFolder(
            list(messages),
            list(uids) if uids is not None else list(range(1, len(messages) + 1)),
            uidvalidity,
            tuple(attributes),
        )
        self.folders[name] = box
        return box

    def folder_names(self) -> list[str]:
        return ["INBOX", *self.folders]

    def folder(self, name: str) -> ScriptFolder:
        """A folder by name; INBOX is ``messages``/``uids``/``uidvalidity`` of the server."""
        if name == "INBOX":
            return ScriptFolder(
                self.messages, self.uids, self.uidvalidity, self.inbox_attributes, self.inbox_extra
            )
        return self.folders[name]

    def fetch_reply(self, seq: int, uid: int, items: str, folder: str = "INBOX") -> bytes:
        """The normal untagged FETCH response for one message and the requested items."""
        box = self.folder(folder)
        raw = box.messages[box.uids.index(uid)]
        parts = [f"UID {uid}".encode()]
        extra = box.extra.get(uid)
        if extra and "X-GM-" in items.upper():
            parts.append(extra)
        upper = items.upper()
        if "RFC822.SIZE" in upper:
            parts.append(f"RFC822.SIZE {len(raw)}".encode())
        if "INTERNALDATE" in upper:
            parts.append(f"INTERNALDATE {DATE}".encode())
        if "FLAGS" in upper:
            parts.append(b"FLAGS ()")
        if "HEADER.FIELDS" in upper:
            fields = re.search(r"HEADER\.FIELDS \(([^)]*)\)", upper)
            names = (fields.group(1) if fields else "MESSAGE-ID").split()
            wanted = tuple(n.lower().encode() + b":" for n in names)
            head = b"".join(
                line + b"\r\n"
                for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                if line.lower().startswith(wanted)
            )
            head += b"\r\n"
            listed = " ".join(f'"{n}"' if self.quote_header_fields else n for n in names)
            key = f"BODY[HEADER.FIELDS ({listed})]".encode()
            parts.append(key + b" {%d}\r\n" % len(head) + head)
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
