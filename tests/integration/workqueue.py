"""Helpers of the work-queue suites: accounts files for many Dovecot users, the server's
UIDNEXT, and what the store holds once the workers are done."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devkit.dovecot import DovecotServer
from tests.backends import is_postgres, store_rows


def write_accounts(
    path: Path,
    server: DovecotServer,
    users: Iterable[str],
    *,
    folders: tuple[str, ...] = ("INBOX", "Archive"),
    max_connections: int = 2,
    batch_size: int | None = None,
) -> Path:
    """An accounts file with one account per user (named like the user), each password
    from the variable ``PW_<user>``."""
    lines = [
        "[defaults]",
        'host = "127.0.0.1"',
        f"port = {server.imaps_port}",
        f'ca_file = "{server.cert_path}"',
        "timeout = 20",
        f"folders = [{', '.join(repr(f).replace(chr(39), chr(34)) for f in folders)}]",
        f"max_connections = {max_connections}",
    ]
    if batch_size is not None:
        lines.append(f"batch_size = {batch_size}")
    for user in users:
        lines += ["", f"[accounts.{user}]", f'username = "{user}"', f'password_env = "PW_{user}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def password_env(server: DovecotServer, users: Iterable[str]) -> dict[str, str]:
    return {f"PW_{u}": server.users[u] for u in users}


def uidnext(server: DovecotServer, user: str, folder: str) -> int:
    """The folder's UIDNEXT, as the server says it."""
    out = server.doveadm("-f", "tab", "mailbox", "status", "-u", user, "uidnext", folder)
    return int(out.strip().splitlines()[-1].split("\t")[-1])


def now_sql(db: str | Path) -> str:
    """The database's clock in Unix seconds, as SQL (what lease times are measured in)."""
    if is_postgres(db):
        return "extract(epoch FROM clock_timestamp())"
    return "(julianday('now') - 2440587.5) * 86400.0"


@functools.cache
def _s3(url: str) -> Any:
    from mailatlas_core._s3_blobs import S3BlobStore

    return S3BlobStore.from_url(url)  # one client for every read: making one is slow


def read_blob(workspace: str | Path, key: str) -> bytes:
    """One blob of the store's workspace: a local directory or ``s3://BUCKET/PREFIX``."""
    if str(workspace).startswith("s3://"):
        return bytes(_s3(str(workspace)).get(key))
    return (Path(workspace) / key).read_bytes()


def check_exactly_once(
    db: str | Path, workspace: str | Path, expected_message_ids: set[str]
) -> None:
    """Every expected message (normalised Message-IDs) stored once, each raw blob present
    and matching its hash."""
    docs = store_rows(db, "SELECT message_id, raw_path, content_hash FROM documents")
    ids = [str(m) for m, _, _ in docs]
    assert len(ids) == len(set(ids)), "a message was stored twice"
    assert set(ids) == expected_message_ids
    for _, raw_path, digest in docs:
        data = read_blob(workspace, str(raw_path))
        assert hashlib.sha256(data).hexdigest() == digest


def check_queue_drained(db: str | Path, expected_items: int) -> None:
    """Every item done, no lease left held."""
    rows = store_rows(db, "SELECT state, owner, lease_expires FROM work_items")
    assert len(rows) == expected_items
    assert {r[0] for r in rows} == {"done"}, rows
    assert all(r[1] is None and r[2] is None for r in rows)


def check_cursors(
    db: str | Path, server: DovecotServer, users: Iterable[str], folders: Iterable[str]
) -> None:
    """Each folder's cursor is the server's UIDNEXT - 1."""
    cursors = {
        (str(u), str(f)): int(str(last))
        for u, f, last in store_rows(db, "SELECT username, folder, last_uid FROM imap_cursors")
    }
    for user in users:
        for folder in folders:
            assert cursors[user, folder] == uidnext(server, user, folder) - 1, (user, folder)
