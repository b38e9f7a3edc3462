"""Listeners: connections that only wait for the server to say a folder changed.

An :class:`IdleListener` holds one connection per folder, EXAMINEs it and IDLEs; a
:class:`NotifyListener` holds one connection for many folders (``NOTIFY SET``, then
IDLE). Neither touches the store: each reports the folder that changed through
``changed(folder)``, and the watch applies the change with the ordinary sync code on
its own connection. A dropped connection is reopened with backoff (doubling up to
``max_backoff``), and the folder is reported once the listener is back, since anything
may have changed meanwhile. Each listener reports ``changed`` once when it first
starts waiting too, so nothing that arrived between the first sync and the first IDLE
is missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from ._config import ImapSyncConfig
from ._errors import ImapAuthError, ImapError
from ._idle import idle, is_change, notify_set, status_folder
from ._session import Session

__all__ = ["IdleListener", "Listener", "NotifyListener"]

log = logging.getLogger("mailatlas_imap")

Changed = Callable[[str], None]
Fatal = Callable[[BaseException], None]


class Listener(threading.Thread):
    """The reconnect loop shared by both kinds; subclasses wait in :meth:`listen`."""

    def __init__(
        self,
        config: ImapSyncConfig,
        folders: Sequence[str],
        *,
        changed: Changed,
        fatal: Fatal,
        stop: threading.Event,
        idle_seconds: float,
        max_backoff: float,
    ) -> None:
        super().__init__(name=f"mailatlas-listen-{'+'.join(folders)}", daemon=True)
        self.config = config
        self.folders = tuple(folders)
        self.changed = changed
        self.fatal = fatal
        self.stop = stop
        self.idle_seconds = idle_seconds
        self.max_backoff = max_backoff
        self.reconnects = 0
        self.ready = threading.Event()  # set once waiting for the first time
        self._session: Session | None = None

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            session = Session(self.config)
            self._session = session
            try:
                session.open()
                self.prepare(session)
                for folder in self.folders:  # caught up: whatever came meanwhile is synced
                    self.changed(folder)
                self.ready.set()
                failures = 0
                while not self.stop.is_set():
                    idle(session, self.idle_seconds, self.stop.is_set, self.on_line)
            except ImapAuthError as exc:  # credentials stopped working: no point retrying
                self.fatal(exc)
                return
            except ImapError as exc:
                if self.stop.is_set():
                    return
                failures += 1
                self.reconnects += 1
                delay = min(self.max_backoff, self.config.retry_delay * 2 ** (failures - 1))
                where = ", ".join(self.folders)
                log.warning("listening on %s: %s; reconnecting in %.1f s", where, exc, delay)
                session.close()
                self.stop.wait(delay)
            except BaseException as exc:  # a bug: let the watch stop and say so
                self.fatal(exc)
                return
            finally:
                session.close()

    def close(self) -> None:
        """Stop soon: the thread leaves within one tick of the IDLE loop."""
        self.stop.set()

    def prepare(self, session: Session) -> None:
        """Abstract: start listening on ``session`` (IdleListener, NotifyListener)."""
        raise NotImplementedError

    def on_line(self, line: bytes) -> None:
        """Abstract: act on one untagged line the server sent while listening."""
        raise NotImplementedError


class IdleListener(Listener):
    """IDLE on one folder, on its own connection."""

    def prepare(self, session: Session) -> None:
        session.examine(self.folders[0])

    def on_line(self, line: bytes) -> None:
        if is_change(line):
            self.changed(self.folders[0])


class NotifyListener(Listener):
    """NOTIFY for several folders on one connection (RFC 5465), waiting in IDLE."""

    def prepare(self, session: Session) -> None:
        notify_set(session, self.folders)

    def on_line(self, line: bytes) -> None:
        folder = status_folder(line)
        if folder in self.folders:
            self.changed(folder)
