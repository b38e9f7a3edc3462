"""``open_store``: a store from a database and a workspace, any combination of backends.

The one module that knows every backend (and imports each only when it is asked for);
:mod:`.store` holds the interface they implement and imports none of them.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import StoreError
from ._store import Store, is_postgres_url, is_s3_url, sqlite_path

if TYPE_CHECKING:
    from ._backend import Backend
    from ._blobs import BlobStore

__all__ = ["open_store"]


def open_store(
    db: str | Path, workspace: str | Path, *, create: bool = True, check_workspace: bool = True
) -> Store:
    """Open a store: a database (rows) plus a workspace (blobs), any combination.

    ``db`` is a path to an SQLite file, ``sqlite:///abs/path.db`` (``sqlite://`` and the
    path after it), or ``postgresql://USER@HOST:PORT/DB`` (``postgres://`` too; the
    password comes from ``PGPASSWORD`` or libpq's other sources, never from the URL).
    ``workspace`` is a directory path or ``s3://BUCKET/PREFIX`` (endpoint and keys from
    the ``AWS_*`` environment variables). PostgreSQL needs the ``postgres`` extra, S3 the
    ``s3`` extra; without it the error says what to install.

    With ``create=False`` (read-only commands) a missing store is a
    :class:`~mailatlas_core._errors.StoreNotFoundError` and nothing is created anywhere.

    ``check_workspace=False`` is for a caller that writes rows only and leaves the blobs
    to processes that open the store themselves (``sync imap --workers N`` queueing the
    work its workers do): an ``s3://`` workspace is then not checked, and no S3 client is
    made until a blob is used. A local workspace is made as usual.
    """
    from ._blobs import LocalBlobStore
    from ._docstore import DocumentStore

    db_text, ws_text = os.fspath(db), os.fspath(workspace)
    if not is_postgres_url(db_text) and not is_s3_url(ws_text):
        from ._sqlite_store import SQLiteStore

        return SQLiteStore(Path(sqlite_path(db_text)), Path(ws_text), create=create)
    # The blob store first: making it touches nothing (no directory, no request), so a
    # missing extra is reported before a database is created.
    blobs: BlobStore
    if is_s3_url(ws_text):
        try:
            from ._s3_blobs import S3BlobStore

            # The client is made on first use; whether it can be is known now.
            if importlib.util.find_spec("boto3") is None:
                raise ImportError("boto3")
        except ImportError:
            raise StoreError(
                _MISSING_EXTRA.format(what="an s3:// --workspace", extra="s3")
            ) from None
        blobs = S3BlobStore.from_url(ws_text, deferred=True)
    else:
        blobs = LocalBlobStore(Path(ws_text))
    backend: Backend
    if is_postgres_url(db_text):
        try:
            from ._pg_backend import PostgresBackend
        except ImportError:
            raise StoreError(
                _MISSING_EXTRA.format(what="a postgresql:// --db", extra="postgres")
            ) from None
        backend = PostgresBackend(db_text, create=create)
    else:
        from ._sqlite_backend import SQLiteBackend

        backend = SQLiteBackend(Path(sqlite_path(db_text)), create=create)
    return DocumentStore(backend, blobs, create=create, check_blobs=check_workspace)


_MISSING_EXTRA = "{what} needs an optional part: install mailatlas-core[{extra}]"
