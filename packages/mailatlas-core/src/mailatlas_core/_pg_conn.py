"""Opening the PostgreSQL database of a store: the URL, the password rule, migrations.

The URL is ``postgresql://USER@HOST:PORT/DB`` (libpq's URI form; query parameters such
as ``?sslmode=require`` pass through). A URL that carries a password is refused: the
password comes from libpq's own sources (``PGPASSWORD``, ``~/.pgpass``, a service file),
so it is never in a command line, a stored run, a log line or an error message.

Migrations are the numbered files of :mod:`mailatlas_core.pg_migrations`, recorded in
``schema_migrations``; concurrent openers (many workers starting at once) take a
transaction-scoped advisory lock, so each migration is applied exactly once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ._dates import utc_now_iso
from ._errors import (
    DocumentTooLargeError,
    MigrationError,
    StorageFullError,
    StoreError,
    StoreNotFoundError,
)
from ._store import is_postgres_url

if TYPE_CHECKING:
    import psycopg

__all__ = ["LATEST_PG_VERSION", "connect", "is_postgres_url", "pg_error", "redact_url"]

LATEST_PG_VERSION = 6
# pg_advisory_xact_lock key for schema changes: "MAtlas" in ASCII.
_MIGRATION_LOCK = 0x4D41746C6173
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_PASSWORD_PARAM = re.compile(r"(?:^|&)password=", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL without any password (what errors and runs may show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError as exc:
        raise StoreError(f"cannot read the database URL {redact_url(url)!r}: {exc}") from None
    if has_password or _PASSWORD_PARAM.search(parts.query):
        raise StoreError(
            "the database URL must not hold a password: give it in PGPASSWORD (or "
            "~/.pgpass), e.g. --db postgresql://USER@HOST:PORT/DB"
        )


def connect(url: str, *, create: bool) -> psycopg.Connection[Any]:
    """Open the database (autocommit; transactions are explicit), migrated to the latest.

    With ``create=False`` a database without MailAtlas's tables is a
    :class:`~mailatlas_core._errors.StoreNotFoundError` and nothing is written.
    """
    _check_url(url)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the extra is part of every test env
        raise StoreError(
            "the PostgreSQL backend needs psycopg: pip install 'mailatlas-core[postgres]'"
        ) from None
    try:
        conn = psycopg.connect(url, autocommit=True, application_name="mailatlas")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {redact_url(url)}: {_first_line(exc)}") from None
    try:
        if create:
            _migrate(conn)
        else:
            _check_readable(conn, url)
    except BaseException:
        conn.close()
        raise
    return conn


def _applied(conn: psycopg.Connection[Any]) -> set[int] | None:
    row = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if row is None or row[0] is None:
        return None
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}


def _check_readable(conn: psycopg.Connection[Any], url: str) -> None:
    import psycopg

    try:
        applied = _applied(conn)
    except psycopg.Error as exc:
        raise pg_error(exc, f"cannot open store {redact_url(url)}") from None
    if applied is None:
        raise StoreNotFoundError(
            f"no MailAtlas store in {redact_url(url)}; ingest or sync some mail first, "
            "or point --db at an existing store"
        )
    _refuse_newer(applied)
    if max(applied, default=0) < LATEST_PG_VERSION:
        raise StoreError(
            f"{redact_url(url)} was written by an older MailAtlas and must be upgraded; "
            "run any writing mailatlas command (ingest, sync) on it once"
        )


def _refuse_newer(applied: set[int]) -> None:
    newer = {v for v in applied if v > LATEST_PG_VERSION}
    if newer:
        raise MigrationError(
            f"this store has schema version {max(newer)}, newer than this MailAtlas "
            "understands; upgrade MailAtlas"
        )


def _migrations() -> list[tuple[int, str, str]]:
    from importlib import resources

    found = []
    for entry in resources.files("mailatlas_core.pg_migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def _migrate(conn: psycopg.Connection[Any]) -> None:
    import psycopg

    try:
        applied = _applied(conn)
        if applied is not None:
            _refuse_newer(applied)
            if applied >= set(range(1, LATEST_PG_VERSION + 1)):
                return  # up to date, the common case: no lock taken
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)"
            )
            applied = _applied(conn) or set()
            _refuse_newer(applied)
            for version, name, sql in _migrations():
                if version in applied:
                    continue
                conn.execute(sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                    (version, name, utc_now_iso()),
                )
    except psycopg.Error as exc:
        raise pg_error(exc, "cannot prepare the database") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def pg_error(exc: BaseException, what: str) -> StoreError:
    """A psycopg error as a MailAtlas ``StoreError`` (its first line, no SQL, no values)."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    text = _first_line(exc)
    if sqlstate == "53100":  # disk_full
        return StorageFullError(f"{what}: the database server's disk is full; free space")
    if sqlstate in ("54000", "54001"):  # program_limit_exceeded, statement_too_complex
        return DocumentTooLargeError(
            f"{what}: the message is too large for the database ({text}); it was not stored"
        )
    if sqlstate.startswith("08") or ("connection" in text.lower() and "closed" in text.lower()):
        return StoreError(f"{what}: the connection to the database was lost ({text})")
    return StoreError(f"{what}: {text}")
