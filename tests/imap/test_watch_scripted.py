"""`watch_imap` against the scripted server: IDLE renewed before its timeout, a dropped
IDLE connection reopened, polling where the server offers no IDLE. (The real behaviour
against Dovecot is in tests/integration/test_watch.py.)"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mailatlas_imap import WatchEvent, WatchOptions, WatchResult, watch_imap

from devkit.imapscript import CAPABILITIES, Conn, ScriptedImap
from tests.hostile.helpers import wait_for
from tests.integration.conftest import message, messages

from .hostile import SAFETY_NET, config, new_store


class Running:
    """``watch_imap`` in a thread (it opens its own store there); events in a queue."""

    def __init__(self, home: Path, server: ScriptedImap, options: WatchOptions) -> None:
        self.events: queue.Queue[WatchEvent] = queue.Queue()
        self.stop = threading.Event()
        self.box: dict[str, Any] = {}
        cfg = config(server, retry_delay=0.05)

        def run() -> None:
            store = new_store(home)
            try:
                self.box["result"] = watch_imap(
                    store, cfg, self.events.put, options=options, stop=self.stop
                )
            except BaseException as exc:
                self.box["error"] = exc
            finally:
                store.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def next(self, kind: str, subject: str | None = None) -> WatchEvent:
        while True:
            event = self.events.get(timeout=SAFETY_NET)
            if event.event == kind and (subject is None or event.subject == subject):
                return event

    def finish(self) -> WatchResult:
        self.stop.set()
        self.thread.join(SAFETY_NET)
        assert not self.thread.is_alive()
        if "error" in self.box:
            raise self.box["error"]
        result: WatchResult = self.box["result"]
        return result


@pytest.fixture
def running() -> Iterator[list[Running]]:
    made: list[Running] = []
    yield made
    for r in made:
        r.stop.set()


def arrive(server: ScriptedImap, n: int, tag: str) -> str:
    """A new message in INBOX, announced to every connection in IDLE; its subject."""
    server.uids.append(max(server.uids) + 1)
    server.messages.append(message(n, tag=tag))
    with server.lock:
        for conn in server.idling:
            conn.send(f"* {len(server.uids)} EXISTS\r\n".encode())
    return f"Message {tag} {n}"


def test_idle_is_renewed_before_its_timeout_and_reports_new_mail(
    tmp_path: Path, running: list[Running]
) -> None:
    with ScriptedImap(messages(1, tag="idle"), capabilities=CAPABILITIES + " IDLE") as server:
        w = Running(tmp_path, server, WatchOptions(idle_seconds=0.3))
        running.append(w)
        assert w.next("watching").detail == {"mode": "idle", "folders": ["INBOX"]}
        # Renewals are observed on the server (each IDLE ends with DONE), not timed.
        wait_for(lambda: server.commands.count("DONE") >= 3, "three renewed IDLEs")
        subject = arrive(server, 1, "idle")
        event = w.next("new", subject)
        result = w.finish()
    assert event.folder == "INBOX" and event.id
    assert (result.status, result.mode, result.new_count) == ("ok", "idle", 1)
    idles = [c for c in server.commands if c.split(" ")[1:2] == ["IDLE"]]
    assert len(idles) >= 3


def test_mail_that_lands_between_two_idles_is_reported_by_the_next(
    tmp_path: Path, running: list[Running]
) -> None:
    """New mail while the listener renews its IDLE (after DONE, before the next IDLE) is
    announced to nobody; the server tells it at the next IDLE, as real servers do, and
    the watch reports it."""
    with ScriptedImap(messages(1, tag="gap"), capabilities=CAPABILITIES + " IDLE") as server:
        landed: list[str] = []

        def idle(conn: Conn, tag: str, args: str) -> None:
            if not landed and server.commands.count("DONE") >= 1:  # a renewal: mail lands now
                server.uids.append(max(server.uids) + 1)
                server.messages.append(message(1, tag="late"))
                landed.append("Message late 1")
            conn.default(tag, args, "IDLE")

        server.on("IDLE", idle)
        w = Running(tmp_path, server, WatchOptions(idle_seconds=0.3))
        running.append(w)
        w.next("watching")
        wait_for(lambda: bool(landed), "mail landing between two IDLEs")
        event = w.next("new", landed[0])
        result = w.finish()
    assert event.folder == "INBOX" and result.new_count == 1


def test_a_dropped_idle_connection_is_reopened(tmp_path: Path, running: list[Running]) -> None:
    with ScriptedImap(messages(1, tag="drop"), capabilities=CAPABILITIES + " IDLE") as server:
        w = Running(tmp_path, server, WatchOptions())
        running.append(w)
        w.next("watching")
        wait_for(lambda: bool(server.idling), "a connection in IDLE")
        with server.lock:
            for conn in server.idling:
                conn.send(b"* BYE server shutting down\r\n")
                conn.sock.shutdown(socket.SHUT_RDWR)
        logins = len([c for c in server.commands if " LOGIN " in c])
        wait_for(
            lambda: (
                len([c for c in server.commands if " LOGIN " in c]) > logins and bool(server.idling)
            ),
            "the listener back in IDLE",
        )
        subject = arrive(server, 1, "drop")
        w.next("new", subject)
        result = w.finish()
    assert result.reconnects >= 1 and result.new_count == 1


def test_without_idle_the_watch_polls(tmp_path: Path, running: list[Running]) -> None:
    with ScriptedImap(messages(1, tag="poll")) as server:  # no IDLE, no NOTIFY
        w = Running(tmp_path, server, WatchOptions(interval=0.2))
        running.append(w)
        assert w.next("watching").detail["mode"] == "poll"
        subject = arrive(server, 1, "poll")
        w.next("new", subject)
        result = w.finish()
    assert (result.mode, result.new_count) == ("poll", 1)
    assert result.applied_count >= 1


def test_credentials_refused_on_reconnect_end_the_watch(
    tmp_path: Path, running: list[Running]
) -> None:
    with ScriptedImap(messages(1, tag="auth"), capabilities=CAPABILITIES + " IDLE") as server:
        w = Running(tmp_path, server, WatchOptions())
        running.append(w)
        w.next("watching")
        wait_for(lambda: bool(server.idling), "a connection in IDLE")
        server.users["user"] = "changed"  # the password stops working
        with server.lock:
            for conn in server.idling:
                conn.sock.shutdown(socket.SHUT_RDWR)
        stopped = w.next("stopped")
        w.thread.join(SAFETY_NET)
    assert stopped.detail["status"] == "error"
    assert "refused the password" in stopped.detail["error"]
    assert "secret" not in str(stopped.detail)
    assert type(w.box["error"]).__name__ == "ImapAuthError"
