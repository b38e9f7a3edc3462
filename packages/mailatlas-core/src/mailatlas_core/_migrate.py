"""Numbered schema migrations, applied once each, in a transaction, recorded in a table.

Migration files live in ``mailatlas_core/migrations/NNNN_name.sql``. A store records
what it has applied in ``schema_migrations``; opening a store applies the missing ones
in order. A store written by a newer MailAtlas is refused rather than guessed at.

A migration that rebuilds a table other tables reference says
``-- mailatlas: foreign_keys=off``: SQLite's documented way to change a table's schema
(https://sqlite.org/lang_altertable.html#otheralter) needs foreign keys off, or dropping
the old table would cascade into the rows that reference it. They are switched off
around that migration (outside its transaction, where the pragma has effect) and
``PRAGMA foreign_key_check`` must come back empty before it commits.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from ._dates import utc_now_iso
from ._errors import MigrationError

__all__ = ["LATEST_VERSION", "Migration", "apply_migrations", "available_migrations"]

# The newest file in migrations/ (a test keeps the two equal). A store that has applied
# 1..LATEST_VERSION is opened without reading the migration files at all.
LATEST_VERSION = 11

# Migrations that need more than SQL: a function (module:name) run after the file's
# statements, in the same transaction, with the connection.
PYTHON_STEPS = {8: "mailatlas_core._sqlite_threads:backfill_threads"}

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_FOREIGN_KEYS_OFF = "-- mailatlas: foreign_keys=off"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with this package, in version order."""
    from importlib import resources  # only when a store needs migrating (start-up time)

    found = []
    for entry in resources.files("mailatlas_core.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def apply_migrations(conn: sqlite3.Connection, upto: int | None = None) -> list[int]:
    """Apply the missing migrations (optionally only up to ``upto``); return those applied.

    The connection must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    if upto is None and applied == set(range(1, LATEST_VERSION + 1)):
        return []  # up to date, the common case
    migrations = available_migrations()
    known = {m.version for m in migrations}
    newer = applied - known
    if newer:
        raise MigrationError(
            f"this store has schema version {max(newer)}, newer than this MailAtlas "
            "understands; upgrade MailAtlas"
        )
    done = []
    for migration in migrations:
        if migration.version in applied or (upto is not None and migration.version > upto):
            continue
        keys_off = _FOREIGN_KEYS_OFF in migration.sql
        keys_were_on = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
        if keys_off:
            conn.execute("PRAGMA foreign_keys = OFF")
        try:
            if _apply_one(conn, migration, check_keys=keys_off):
                done.append(migration.version)
        finally:
            if keys_off and keys_were_on:
                conn.execute("PRAGMA foreign_keys = ON")
    return done


def _apply_one(conn: sqlite3.Connection, migration: Migration, *, check_keys: bool) -> bool:
    """Apply one migration in its own transaction; False if another process just did."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-check under the write lock: another process may have just applied it.
        row = conn.execute(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ).fetchone()
        if row is not None:
            conn.execute("COMMIT")
            return False
        for statement in _statements(migration.sql):
            conn.execute(statement)
        step = PYTHON_STEPS.get(migration.version)
        if step is not None:
            from importlib import import_module

            module, name = step.split(":")
            getattr(import_module(module), name)(conn)
        if check_keys and conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise MigrationError(
                f"migration {migration.version} ({migration.name}) would break references "
                "between tables; the store was left as it was"
            )
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, utc_now_iso()),
        )
        conn.execute("COMMIT")
        return True
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit)."""
    out: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--") and not current:
            continue
        current.append(line)
        candidate = "\n".join(current)
        if candidate.rstrip().endswith(";") and sqlite3.complete_statement(candidate):
            out.append(candidate)
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current))
    return out
