"""Waiting for the server to speak: IDLE (RFC 2177) and NOTIFY (RFC 5465) on a Session.

imapclient's ``idle_check`` reads with the socket in non-blocking mode and gives up at
the first pause, which the bounded reader of :mod:`._wire` cannot share. Here the wait
is a ``select`` on the socket (after looking at what is already buffered), and a line is
read only once its first byte is there, with the usual per-command budget: a server
that starts a line and stalls is still cut off.
"""

from __future__ import annotations

import imaplib
import re
import select
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.imap_utf7 import encode as encode_utf7

from ._config import canonical_folder
from ._errors import ImapConnectionError
from ._session import COMMAND_BYTES, Session
from ._wire import Budget

__all__ = ["TICK", "idle", "notify_set"]

TICK = 0.5  # seconds between looks at the stop flag while nothing arrives
IDLE_LINES = 1_000_000  # untagged lines one IDLE may bring (a mass expunge: one per message)
_CHANGE = re.compile(rb"^\* (?:\d+ (?:EXISTS|EXPUNGE|FETCH)|VANISHED)\b", re.IGNORECASE)
_STATUS = re.compile(rb'^\* STATUS (?:"((?:[^"\\]|\\.)*)"|(\S+)) \(', re.IGNORECASE)
_QUOTED_ESCAPE = re.compile(rb"\\(.)")

imaplib.Commands.setdefault("IDLE", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("NOTIFY", ("AUTH", "SELECTED"))


def _buffered(wire: Any) -> bool:
    """True when bytes of the next line are already read (no blocking to find out)."""
    sock = wire.sock
    previous = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        return bool(wire.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(previous)


def _readable(wire: Any, seconds: float) -> bool:
    if _buffered(wire):
        return True
    ready, _, _ = select.select([wire.sock], [], [], max(0.0, seconds))
    return bool(ready)


def idle(
    session: Session,
    seconds: float,
    stop: Callable[[], bool],
    on_line: Callable[[bytes], None],
) -> None:
    """IDLE for ``seconds`` (or until ``stop()``), calling ``on_line`` with each untagged
    line as it arrives; then DONE. The caller re-IDLEs (RFC 2177: before 29 minutes).

    Raises :class:`ImapConnectionError` when the connection drops (a server restart
    sends BYE or just closes it).
    """
    cfg = session.config
    wire = session.client.wire
    wire.next_budget = Budget(seconds + cfg.command_timeout, COMMAND_BYTES * 4, IDLE_LINES)
    with session.guard("waiting for changes (IDLE)"):
        tag = wire._command("IDLE")
        while True:  # until the continuation: untagged lines may come first
            line = wire._get_line()
            if line.startswith(b"+"):
                break
            if line.startswith(tag):
                raise ImapConnectionError(
                    f"{session.where} refused IDLE: {line.decode('utf-8', 'replace')}",
                    retryable=False,
                )
            _untagged(session, line, on_line)
        end = time.monotonic() + seconds
        while not stop():
            left = end - time.monotonic()
            if left <= 0:
                break
            if _readable(wire, min(TICK, left)):
                _untagged(session, wire._get_line(), on_line)
        wire.send(b"DONE\r\n")
        wire._command_complete("IDLE", tag)


def _untagged(session: Session, line: bytes, on_line: Callable[[bytes], None]) -> None:
    if line[:6].upper() == b"* BYE ":
        session._broken = True  # the server is closing: no LOGOUT, just drop the socket
        text = session.scrub(line[6:].decode("utf-8", "replace"))
        raise ImapConnectionError(f"{session.where} closed the connection: {text}")
    on_line(line)


def is_change(line: bytes) -> bool:
    """An untagged line that says the selected folder changed (new, expunged, flags)."""
    return bool(_CHANGE.match(line))


def status_folder(line: bytes) -> str | None:
    """The folder a NOTIFY ``* STATUS`` line is about, as MailAtlas names it."""
    match = _STATUS.match(line)
    if match is None:
        return None
    raw = match.group(1) if match.group(1) is not None else match.group(2)
    name = _QUOTED_ESCAPE.sub(rb"\1", raw)
    return canonical_folder(decode_utf7(name))


def notify_set(session: Session, folders: Iterable[str]) -> None:
    """``NOTIFY SET`` for new, expunged and changed messages in ``folders`` (none selected:
    the server reports each change as a ``STATUS`` line for its folder)."""
    names = " ".join(_quote(encode_utf7(f)) for f in folders)
    events = "(MessageNew MessageExpunge FlagChange)"
    with session.guard("asking for notifications (NOTIFY)"):
        try:
            session.client.wire._simple_command("NOTIFY", f"SET (mailboxes ({names}) {events})")
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise ImapConnectionError(
                f"{session.where} refused NOTIFY ({session.scrub(str(exc))})", retryable=False
            ) from None


def _quote(name: bytes) -> str:
    text = name.decode("ascii")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
