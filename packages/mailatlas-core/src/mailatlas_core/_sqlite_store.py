"""The embedded store: SQLite rows plus workspace files, as one :class:`Store`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._blobs import LocalBlobStore
from ._docstore import DocumentStore
from ._sqlite_backend import SQLiteBackend
from ._workspace import Workspace

__all__ = ["SQLiteStore"]


class SQLiteStore(DocumentStore):
    """A :class:`~mailatlas_core._docstore.DocumentStore` over one SQLite database and one
    workspace directory.

    One connection per store object; use one store object per process. Writers take
    SQLite's write lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue
    instead of failing, and UNIQUE constraints make every add insert-or-ignore.
    """

    backend: SQLiteBackend
    blobs: LocalBlobStore

    def __init__(self, db_path: Path, workspace_path: Path, *, create: bool = True) -> None:
        # The database is checked (and created) first: a refused path must leave no
        # workspace behind.
        backend = SQLiteBackend(db_path, create=create)
        super().__init__(backend, LocalBlobStore(workspace_path), create=create)

    @property
    def db_path(self) -> Path:
        return self.backend.db_path

    @property
    def workspace(self) -> Workspace:
        return self.blobs.workspace

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.backend._conn
