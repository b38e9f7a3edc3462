"""``watch_imap``: sync, then follow a mailbox as it changes (IDLE, NOTIFY or polling).

After a first :func:`~mailatlas_imap.sync_imap`, listeners (:mod:`._listen`) wait for
the server to say a folder changed: one IDLE connection per folder up to
``max_connections``, else one NOTIFY connection where the server offers it, else
nothing and every folder is synced each ``interval`` seconds. Each change is applied
by the ordinary folder sync (:func:`._folder.sync_folder`) on one more connection,
in this thread (the only one that touches the store), and reported as one event per
document. Everything a change applies is committed with its cursor, as in a sync:
stopping at any moment (Ctrl-C, SIGTERM) leaves a consistent store.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from mailatlas_core import DocumentNotFoundError, Store, utc_now_iso

from ._changes import ChangeBatch
from ._config import ImapSyncConfig
from ._errors import FolderError, ImapAuthError, ImapConfigError, ImapConnectionError, ImapError
from ._folder import ProgressCallback, sync_folder
from ._listen import IdleListener, Listener, NotifyListener
from ._parsing import Parser
from ._result import FolderResult, SyncInterrupted, SyncResult
from ._session import Session
from ._sync import sync_imap
from ._watch_events import Changes, WatchEvent

__all__ = [
    "WatchEvent",
    "WatchInterrupted",
    "WatchMode",
    "WatchOptions",
    "WatchResult",
    "watch_imap",
]

log = logging.getLogger("mailatlas_imap")

WatchMode = Literal["auto", "idle", "notify", "poll"]
MAX_IDLE_SECONDS = 29 * 60  # RFC 2177: servers may drop an IDLE after 30 minutes


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """How to wait for changes.

    Attributes:
        mode: ``"auto"`` (IDLE when the server offers it and the folders fit in
            ``max_connections``, else NOTIFY where offered, else polling), or one of
            ``"idle"``, ``"notify"``, ``"poll"`` to insist.
        interval: seconds between two syncs of every folder when polling.
        idle_seconds: how long one IDLE lasts before it is renewed (at most 29 minutes).
        max_connections: IDLE connections at most (one per folder), besides the one
            that applies changes.
        max_backoff: the longest wait between two reconnects (they start at the
            config's ``retry_delay`` and double).
    """

    mode: WatchMode = "auto"
    interval: float = 60.0
    idle_seconds: float = MAX_IDLE_SECONDS
    max_connections: int = 10
    max_backoff: float = 60.0

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "idle", "notify", "poll"):
            raise ImapConfigError(f"watch mode must be auto, idle, notify or poll: {self.mode!r}")
        if not 0 < self.idle_seconds <= MAX_IDLE_SECONDS:
            raise ImapConfigError(
                f"idle_seconds must be between 0 and {MAX_IDLE_SECONDS} (29 minutes),"
                f" not {self.idle_seconds!r}"
            )
        if not self.interval > 0 or not self.max_backoff > 0:
            raise ImapConfigError("interval and max_backoff must be positive")
        if self.max_connections < 1:
            raise ImapConfigError(f"max_connections must be at least 1: {self.max_connections}")


@dataclass(slots=True)
class WatchResult:
    """What a watch did until it stopped (``status``: ``interrupted`` after Ctrl-C)."""

    host: str
    port: int
    mode: str = ""
    folders: list[str] = field(default_factory=list)
    first_sync: SyncResult | None = None
    new_count: int = 0
    changed_count: int = 0
    moved_count: int = 0
    removed_count: int = 0
    failed_count: int = 0
    pruned: list[str] | None = None  # ids deleted by ``prune`` while watching; None: not asked
    applied_count: int = 0  # folder syncs after the first one
    reconnects: int = 0
    run_id: int | None = None
    interrupted: bool = False
    error: str | None = None
    duration_s: float = 0.0

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "interrupted" if self.interrupted else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "host": self.host,
            "port": self.port,
            "mode": self.mode,
            "folders": self.folders,
            "new_count": self.new_count,
            "changed_count": self.changed_count,
            "moved_count": self.moved_count,
            "removed_count": self.removed_count,
            **({} if self.pruned is None else {"pruned_count": len(self.pruned)}),
            "failed_count": self.failed_count,
            "applied_count": self.applied_count,
            "reconnects": self.reconnects,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
            "run_id": self.run_id,
        }


class WatchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, turned into one) stopped a watch; ``result`` says what it did."""

    def __init__(self, result: WatchResult) -> None:
        super().__init__(f"watch interrupted: {result.new_count} stored")
        self.result = result


OnEvent = Callable[[WatchEvent], None]


def watch_imap(
    store: Store,
    config: ImapSyncConfig,
    on_event: OnEvent,
    *,
    options: WatchOptions | None = None,
    stop: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> WatchResult:
    """Sync ``config``'s folders, then apply every change as the server reports it.

    ``on_event`` gets one :class:`WatchEvent` per new, changed, moved or removed
    document, plus ``synced`` (the first sync's counts), ``watching`` (listeners ready)
    and ``stopped``. ``progress`` follows the first sync as in :func:`sync_imap`. Runs
    until ``stop`` is set (returns) or Ctrl-C (raises :class:`WatchInterrupted`). A
    dropped connection is reopened with backoff, for as long as it takes; refused
    credentials end the watch (:class:`ImapAuthError`).

    Raises:
        WatchInterrupted: Ctrl-C; everything applied before it is committed.
        ImapAuthError: the server refused the credentials (at first, or later).
        ImapConnectionError: the first sync could not connect at all.
    """
    options = options or WatchOptions()
    stop = stop or threading.Event()
    started = time.monotonic()
    result = WatchResult(config.host, config.port, pruned=[] if config.prune else None)
    try:
        first = sync_imap(store, config, progress=progress)
    except SyncInterrupted as exc:  # Ctrl-C during the first sync: its batches are kept
        result.first_sync, result.interrupted = exc.result, True
        result.duration_s = time.monotonic() - started
        on_event(_status("stopped", result.to_dict()))
        raise WatchInterrupted(result) from exc
    result.first_sync = first
    result.folders = [f.folder for f in first.folders if f.status != "error"]
    on_event(_status("synced", _counts(first)))
    if not result.folders:
        raise FolderError(f"nothing to watch: no folder of {config.host} could be synced")
    watcher = _Watcher(store, config, options, stop, on_event, result)
    try:
        watcher.run()
    except KeyboardInterrupt as exc:
        result.interrupted = True
        watcher.finish("interrupted", started)
        on_event(_status("stopped", result.to_dict()))
        raise WatchInterrupted(result) from exc
    except BaseException as exc:
        result.error = str(exc) or type(exc).__name__
        watcher.finish("error", started)
        if isinstance(exc, ImapError):  # refused credentials: the last line says so
            on_event(_status("stopped", watcher.session.scrub.data(result.to_dict())))
        raise
    watcher.finish("ok", started)
    on_event(_status("stopped", result.to_dict()))
    return result


def _status(event: str, detail: dict[str, Any]) -> WatchEvent:
    return WatchEvent(event, utc_now_iso(), detail=detail)


def _counts(first: SyncResult) -> dict[str, Any]:
    summary = first.to_dict()
    for folder in summary["folders"]:
        folder.pop("document_refs", None)  # their documents are in the store; keep one line
    return summary


class _Watcher:
    """The loop of one watch: listeners report folders, this thread applies them."""

    def __init__(
        self,
        store: Store,
        config: ImapSyncConfig,
        options: WatchOptions,
        stop: threading.Event,
        on_event: OnEvent,
        result: WatchResult,
    ) -> None:
        self.store = store
        self.config = config
        self.options = options
        self.stop = stop
        self.on_event = on_event
        self.result = result
        self.session = Session(config)
        self.reports: queue.SimpleQueue[str | BaseException] = queue.SimpleQueue()
        self.listeners: list[Listener] = []
        self.parser: Parser | None = None
        self.run_id: int | None = None
        self.failures = 0
        self.changes = Changes(store)

    # -- set-up ------------------------------------------------------------------------
    def _choose_mode(self) -> str:
        opts, folders = self.options, self.result.folders
        caps = {c.decode("ascii", "replace").upper() for c in self.session.client.capabilities()}
        idle_ok = "IDLE" in caps
        notify_ok = "NOTIFY" in caps and idle_ok
        if opts.mode == "idle" and not idle_ok:
            raise ImapConnectionError(f"{self.session.where} does not offer IDLE", retryable=False)
        if opts.mode == "notify" and not notify_ok:
            raise ImapConnectionError(
                f"{self.session.where} does not offer NOTIFY", retryable=False
            )
        if opts.mode != "auto":
            return opts.mode
        if idle_ok and len(folders) <= opts.max_connections:
            return "idle"
        return "notify" if notify_ok else "poll"

    def _start_listeners(self, mode: str) -> None:
        common: dict[str, Any] = {
            "changed": self.reports.put,
            "fatal": self.reports.put,
            "stop": self.stop,
            "idle_seconds": self.options.idle_seconds,
            "max_backoff": self.options.max_backoff,
        }
        if mode == "idle":
            self.listeners = [IdleListener(self.config, [f], **common) for f in self.result.folders]
        elif mode == "notify":
            self.listeners = [NotifyListener(self.config, self.result.folders, **common)]
        for listener in self.listeners:
            listener.start()

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> None:
        self._connect()
        mode = self._choose_mode()
        self.result.mode = mode
        self.run_id = self.store.start_run(
            "imap-watch",
            {
                "host": self.config.host,
                "port": self.config.port,
                "username": self.config.username,
                "folders": self.result.folders,
                "mode": mode,
            },
        )
        self.result.run_id = self.run_id
        self.parser = Parser(self.config.parser_config, self.config.parse_workers)
        self._start_listeners(mode)
        pending: set[str] = set()
        announced = False
        next_poll = time.monotonic() + self.options.interval
        retry_at = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if not announced and all(listener.ready.is_set() for listener in self.listeners):
                announced = True
                self.on_event(_status("watching", {"mode": mode, "folders": self.result.folders}))
            wait = 0.5 if not announced else 1.0
            if mode == "poll":
                wait = max(0.0, min(wait, next_poll - now))
            if pending and now >= retry_at:
                wait = 0.0
            self._collect(pending, wait)
            if mode == "poll" and time.monotonic() >= next_poll:
                pending.update(self.result.folders)
                next_poll = time.monotonic() + self.options.interval
            if pending and time.monotonic() >= retry_at and not self._round(pending):
                retry_at = time.monotonic() + self._delay()

    def _round(self, pending: set[str]) -> bool:
        """Apply the pending folders, each once; False if the connection failed.

        A folder that lost or gained a stored document may hold half of a move: every
        other folder joins the round, so that both halves are paired when it ends.
        Whatever ends the round but a dropped connection (which is retried, keeping its
        halves for the next round), its moves and removals are reported.
        """
        done: set[str] = set()
        whole = True  # every folder of the round synced: a removal is final
        try:
            while todo := [f for f in self.result.folders if f in pending and f not in done]:
                entry = self._apply(todo[0])
                if entry is None:
                    return False
                whole = whole and entry.status != "error"
                pending.discard(todo[0])
                done.add(todo[0])
                if self.changes.add(entry):
                    pending.update(f for f in self.result.folders if f not in done)
                self._collect(pending, 0.0)  # what came in meanwhile joins this round
        except BaseException:  # Ctrl-C, refused credentials: what is committed is told
            with contextlib.suppress(Exception):
                self._settle()
            raise
        self._settle(prune=whole and self.config.prune)
        return True

    def _collect(self, pending: set[str], wait: float) -> None:
        """Take the folders reported within ``wait`` seconds (and all queued since)."""
        try:
            item = self.reports.get(timeout=wait) if wait > 0 else self.reports.get_nowait()
        except queue.Empty:
            return
        while True:
            if isinstance(item, BaseException):
                raise item
            pending.add(item)
            try:
                item = self.reports.get_nowait()
            except queue.Empty:
                return

    def _delay(self) -> float:
        self.failures += 1
        delay: float = self.config.retry_delay * 2 ** (self.failures - 1)
        return min(self.options.max_backoff, delay)

    def _connect(self) -> None:
        """Open the connection that applies changes, retrying a refused one with backoff."""
        while True:
            try:
                self.session.open()
                return
            except ImapConnectionError as exc:
                if not exc.retryable or self.stop.is_set():
                    raise
                delay = self._delay()
                log.warning("%s; reconnecting in %.1f s", exc, delay)
                self.result.reconnects += 1
                self.stop.wait(delay)

    def _apply(self, folder: str) -> FolderResult | None:
        """Sync ``folder`` now and report its documents; None if the connection failed."""
        assert self.parser is not None
        entry = FolderResult(folder)
        try:
            if not self.session.connected:
                self.result.reconnects += 1
                self.session.open()
            sync_folder(
                self.session,
                self.store,
                folder,
                entry,
                parser=self.parser,
                run_id=self.run_id,
                on_changes=self._changed,
            )
        except FolderError as exc:  # the folder went away or was refused: say so, go on
            log.warning("%s: %s", folder, exc)
            entry.fail(str(exc))  # the round is not whole: nothing is pruned after it
            return entry
        except ImapAuthError:
            raise
        except ImapConnectionError as exc:
            self.session.close()
            if not exc.retryable:
                raise
            log.warning("applying changes to %s: %s; will retry", folder, exc)
            self._report(folder, entry)  # what was committed before the drop
            self.changes.add(entry)
            return None
        self.failures = 0
        self.result.applied_count += 1
        self._report(folder, entry)
        return entry

    def _report(self, folder: str, entry: FolderResult) -> None:
        # Count first: the documents are committed, and a Ctrl-C arriving while the
        # events print must still find them in the final counts.
        self.result.new_count += entry.ingested_count
        self.result.failed_count += entry.failed_count
        at = utc_now_iso()
        for ref in entry.document_refs:
            self.on_event(WatchEvent("new", at, folder, ref.id, ref.subject))

    def _changed(self, batch: ChangeBatch) -> None:
        """A committed batch of flag changes and removals: the flag changes, now."""
        events = self.changes.changed(batch, utc_now_iso())
        self.result.changed_count += len(events)
        for event in events:
            self.on_event(event)

    def _settle(self, *, prune: bool = False) -> None:
        """Report the moves and removals kept since the last round ended.

        With ``prune`` (a whole round ended: both halves of any move were seen), a
        document removed from its last folder is deleted and its event says so.
        """
        events = self.changes.settle(utc_now_iso())
        if prune:
            events = [self._pruned(e) for e in events]
        self.result.moved_count += sum(1 for e in events if e.event == "moved")
        self.result.removed_count += sum(1 for e in events if e.event == "removed")
        for event in events:
            self.on_event(event)

    def _pruned(self, event: WatchEvent) -> WatchEvent:
        if event.event != "removed" or not event.detail.get("deleted_on_server"):
            return event
        assert event.id is not None and self.result.pruned is not None
        try:
            self.store.delete_document(event.id)
        except DocumentNotFoundError:  # deleted meanwhile (mailatlas delete, another run)
            return event
        self.result.pruned.append(event.id)
        log.info("pruned %s, deleted on the server", event.id)
        return replace(event, detail={**event.detail, "pruned": True})

    def finish(self, status: str, started: float) -> None:
        """Stop the listeners, close everything, and record the run."""
        self.stop.set()
        for listener in self.listeners:
            listener.close()
        for listener in self.listeners:
            listener.join(timeout=10)
            self.result.reconnects += listener.reconnects
        if self.parser is not None:
            self.parser.close()
        self.session.close()
        self.result.duration_s = time.monotonic() - started
        if self.run_id is not None:
            with contextlib.suppress(Exception):
                summary = self.session.scrub.data(self.result.to_dict())
                self.store.finish_run(self.run_id, status, summary)
