"""Opening the SQLite database of a store: file mode, ownership check, WAL, migrations.

Also the error translation and JSON helpers the SQLite backend shares.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

from ._errors import DocumentTooLargeError, StorageFullError, StoreError, StoreNotFoundError
from ._files import describe_kind
from ._json import dumps
from ._migrate import apply_migrations

__all__ = ["BUSY_TIMEOUT_MS", "check_db_path", "connect", "db_error", "dumps", "scrub"]

BUSY_TIMEOUT_MS = 60_000


def check_db_path(db_path: Path, *, create: bool) -> None:
    """Refuse a database path that is missing (for readers) or not a regular file.

    Checked before anything is opened or created: a FIFO would hang SQLite's open, and a
    refused path must leave no workspace behind.
    """
    try:
        mode = db_path.stat().st_mode
    except FileNotFoundError:
        if create:
            return
        raise StoreNotFoundError(
            f"no MailAtlas store at {db_path}; ingest or sync some mail first, "
            "or point --db at an existing store"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot open store {db_path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise StoreNotFoundError(
            f"{db_path} is {describe_kind(mode)}, not a MailAtlas store; "
            "point --db at a MailAtlas store or a new file"
        )


def _uri(db_path: Path, *, create: bool) -> str:
    """The SQLite URI of the database, its path percent-encoded (``#``, ``?``, ``%``).

    A reader of a store it cannot write (a read-only file system or mount) opens it
    read-only; without a ``-wal`` file to read, also ``immutable`` (SQLite then needs
    no ``-shm`` file, which it could not create there).
    """
    uri = db_path.as_uri()
    if create:
        return f"{uri}?mode=rwc"
    if os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK):
        return f"{uri}?mode=rw"
    if os.path.exists(f"{db_path}-wal"):
        return f"{uri}?mode=ro"
    return f"{uri}?mode=ro&immutable=1"


def connect(db_path: Path, *, create: bool) -> sqlite3.Connection:
    """Open (and with ``create``, make) the database of a store, migrated to the latest.

    A reader (``create=False``) never changes the file: it is refused unless it already
    is a MailAtlas store (a missing file was refused before this is called).
    """
    if create:
        _precreate_private(db_path)
    try:
        conn = sqlite3.connect(
            _uri(db_path, create=create),
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_is_a_store(conn, db_path, create=create)
        if create:  # a reader never changes the file's journal mode
            _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Savepoint and statement journals (the pages one add changes) stay in memory:
        # no message text in temp files, and 230,000 fewer writes per 5,000 adds.
        conn.execute("PRAGMA temp_store = MEMORY")
        try:
            apply_migrations(conn)
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
            conn.close()
            raise StoreError(
                f"{db_path} was written by an older MailAtlas and must be upgraded, but it "
                "is read-only here; run any mailatlas command on it once where it is "
                "writable"
            ) from exc
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreNotFoundError(
                f"{db_path} is not a MailAtlas store (not an SQLite database); "
                "point --db at a MailAtlas store"
            ) from exc
        raise db_error(exc, f"cannot open store {db_path}") from exc
    return conn


def _check_is_a_store(conn: sqlite3.Connection, path: Path, *, create: bool) -> None:
    """Refuse someone else's SQLite database: MailAtlas must never write into it.

    A MailAtlas store has a ``schema_migrations`` table; a new store starts empty.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migrations" in tables or (create and not tables):
        return
    conn.close()
    raise StoreNotFoundError(
        f"{path} is an SQLite database but not a MailAtlas store; "
        "point --db at a MailAtlas store or a new file"
    )


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting out a concurrent opener.

    Changing the journal mode can fail with "database is locked" without SQLite's busy
    handler being consulted (two processes creating a store at the same moment), so
    retry for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _precreate_private(db_path: Path) -> None:
    """Create the database file 0600 before SQLite does: its -wal and -shm copy that mode.

    Only a file created here gets its mode set; an existing one is left as it is (it
    may not even be a MailAtlas store, which is refused later, untouched).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(db_path, flags, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create store {db_path}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; never adds any
    except OSError as exc:
        raise StoreError(f"cannot create store {db_path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def db_error(exc: sqlite3.Error, what: str) -> StoreError:
    text = str(exc)
    if "too big" in text:  # SQLITE_TOOBIG: one value over the length limit, not the disk
        return DocumentTooLargeError(
            f"{what}: the message is too large for the database (a text or blob over "
            "SQLite's length limit, 1 GB by default); it was not stored"
        )
    if "full" in text:
        return StorageFullError(f"{what}: disk full; free space and rerun")
    if "disk I/O error" in text:
        # What SQLite reports when a write fails with ENOSPC/EFBIG on the WAL.
        return StorageFullError(
            f"{what}: the disk refused a write (full, or a file-size limit); free space and rerun"
        )
    if "locked" in text or "busy" in text:
        return StoreError(f"{what}: the store is busy (another writer held it too long); rerun")
    return StoreError(f"{what}: {text}")
