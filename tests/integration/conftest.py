"""Fixtures for the real-Dovecot suites (marker ``dovecot``).

One Dovecot serves the whole session; every test gets its own user (so its own
mailboxes) and its own store, on each backend (``store``: SQLite + files, and
PostgreSQL + S3 in the heavy leg; ``sqlite_store`` for tests that look inside SQLite).
Tests that crash or restart the server start their own.
Without ``dovecot`` installed the suite skips, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import Store, open_store
from mailatlas_imap import ImapSyncConfig

from devkit.dovecot import DovecotServer, dovecot_available
from tests.backends import BACKENDS, StoreSpec, spec_for


def _require_dovecot() -> None:
    if dovecot_available():
        return
    msg = "dovecot-imapd/openssl not installed (apt-get install dovecot-imapd openssl)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + "; CI requires them")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """The shared server (do not kill or restart it; use ``own_dovecot``)."""
    _require_dovecot()
    server = DovecotServer(users=user_pool(120))
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    """A private server for tests that kill or restart it."""
    _require_dovecot()
    server = DovecotServer(users=user_pool(4))
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@dataclass
class Mailbox:
    """A fresh user on a server, with a distinctive password."""

    server: DovecotServer
    user: str
    password: str

    def config(self, **overrides: Any) -> ImapSyncConfig:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.server.imaps_port,
            "username": self.user,
            "password": self.password,
            "ca_file": str(self.server.cert_path),
            "timeout": 10.0,
            "retry_delay": 0.05,
        }
        values.update(overrides)
        return ImapSyncConfig(**values)

    def token(self, **kw: Any) -> str:
        return self.server.token(self.user, **kw)


def user_pool(count: int) -> dict[str, str]:
    """Users with distinctive passwords, created with the server (Dovecot rereads its
    passwd-file at most once a second, so adding users on the fly races logins)."""
    return {f"user{i}": f"pw-{secrets.token_hex(12)}" for i in range(count)}


_handed_out: dict[int, set[str]] = {}


def new_mailbox(server: DovecotServer) -> Mailbox:
    """The next unused user of ``server``: its own, empty mailboxes."""
    used = _handed_out.setdefault(id(server), set())
    user = next(u for u in server.users if u not in used)
    used.add(user)
    return Mailbox(server, user, server.users[user])


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Mailbox:
    return new_mailbox(dovecot)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "atlas"


@pytest.fixture(params=BACKENDS)
def store_spec(request: pytest.FixtureRequest, store_dir: Path) -> StoreSpec:
    """Where the test's store lives, on each backend (PostgreSQL + S3 in the heavy leg)."""
    return spec_for(request.param, request, store_dir, migrated=True)


@pytest.fixture
def store(store_spec: StoreSpec) -> Iterator[Store]:
    s = store_spec.open()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(store_dir: Path) -> Iterator[Store]:
    """The store at ``store_dir``, for tests that look inside SQLite or the workspace."""
    s = open_store(store_dir / "store.db", store_dir / "workspace")
    try:
        yield s
    finally:
        s.close()


def message(n: int, *, tag: str = "m", mid: bool = True, body: str | None = None) -> bytes:
    """A small, valid RFC 5322 message; ``tag`` keeps Message-IDs unique per test."""
    lines = [
        f"From: Sender {n} <sender{n}@example.com>",
        "To: Alice <alice@example.com>",
        f"Subject: Message {tag} {n}",
        f"Date: Mon, 1 Jan 2024 10:{n % 60:02d}:00 +0000",
    ]
    if mid:
        lines.append(f"Message-ID: <{tag}.{n}@example.com>")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", ""]
    lines.append(body or f"Hello, this is message {n} of {tag}.\nSecond line.")
    return ("\r\n".join(lines) + "\r\n").encode()


def messages(count: int, *, tag: str = "m", start: int = 0) -> list[bytes]:
    return [message(i, tag=tag) for i in range(start, start + count)]


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]
