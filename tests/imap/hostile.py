"""Helpers for the scripted-server tests: a config, a store, a sync with a safety net."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mailatlas_core import Store, open_store
from mailatlas_imap import ImapSyncConfig, SyncResult, sync_imap

from devkit.imapscript import ScriptedImap

T = TypeVar("T")
SAFETY_NET = 120.0  # seconds; only for a regression that hangs, never to pace a test


def config(server: ScriptedImap, **kw: Any) -> ImapSyncConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": "user",
        "password": "secret",
        "tls": "none",
        "timeout": 5.0,
        "retry_delay": 0.01,
        "max_retries": 0,
    }
    values.update(kw)
    return ImapSyncConfig(**values)


def new_store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "store.db", tmp_path / "workspace")


def bounded(call: Callable[[], T], limit: float = SAFETY_NET) -> T:
    """``call()`` in a thread; fails the test (instead of hanging it) past ``limit`` s."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit:g} s"
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def sync(home: Path, cfg: ImapSyncConfig) -> SyncResult:
    """Sync into the store at ``home`` (opened in the sync's own thread: SQLite objects
    stay in the thread that made them)."""

    def run() -> SyncResult:
        store = new_store(home)
        try:
            return sync_imap(store, cfg)
        finally:
            store.close()

    return bounded(run)
