"""Run the behaviour tests on every store backend.

``BACKENDS`` parametrises a fixture over ``sqlite`` (an SQLite file and a local
workspace) and ``postgres`` (a database of the session's PostgreSQL and a fresh prefix
of a SeaweedFS bucket, real servers from tests/servers.py). The postgres parameter is
marked ``heavy``: it runs once, on Python 3.11. The ``store`` fixtures of tests/core,
tests/integration and tests/attachments and the CLI's ``atlas`` fixture are built on
it; a test that is about SQLite itself (its files, its connection, its query plans) asks
for ``sqlite_store`` instead.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import Store, open_store

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.heavy),
]


@dataclass(frozen=True)
class StoreSpec:
    """Where one store lives: what ``--db`` and ``--workspace`` would say."""

    backend: str
    db: str
    workspace: str

    def open(self, *, create: bool = True) -> Store:
        return open_store(self.db, self.workspace, create=create)

    def located(self, key: str) -> str:
        """Where the blob ``key`` is, as ``show`` prints it: an absolute path or s3:// URL."""
        if self.workspace.startswith("s3://"):
            return f"{self.workspace}/{key}"
        return str(Path(self.workspace).absolute() / key)

    def env(self) -> dict[str, str]:
        """``MAILATLAS_DB`` / ``MAILATLAS_WORKSPACE`` naming this store (for the CLI)."""
        return {"MAILATLAS_DB": self.db, "MAILATLAS_WORKSPACE": self.workspace}


def spec_for(
    backend: str, request: pytest.FixtureRequest, where: Path, *, migrated: bool = False
) -> StoreSpec:
    """The store of ``backend`` for one test: files under ``where`` for SQLite; for
    PostgreSQL a fresh database (``migrated``: with the schema already made, which is
    faster than creating it in every test) and a fresh S3 prefix."""
    if backend == "sqlite":
        return StoreSpec("sqlite", str(where / "store.db"), str(where / "workspace"))
    url = request.getfixturevalue("pg_store_url" if migrated else "pg_url")
    return StoreSpec("postgres", url, request.getfixturevalue("s3_workspace"))


@contextmanager
def shared_spec(backend: str, request: pytest.FixtureRequest, where: Path) -> Iterator[StoreSpec]:
    """``spec_for`` (migrated) for a fixture wider than one test, e.g. a module's store
    built once: the PostgreSQL database (a copy of the migrated template) and the S3
    prefix are made here, the AWS_* variables set while it lasts, the database dropped
    at its end."""
    if backend == "sqlite":
        yield spec_for(backend, request, where)
        return
    from tests.servers import TEST_BUCKET

    server = request.getfixturevalue("postgres_server")
    admin = request.getfixturevalue("_pg_admin")
    template = request.getfixturevalue("_pg_template")
    seaweed = request.getfixturevalue("seaweed_server")
    name = "t_" + secrets.token_hex(6)
    admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in seaweed.env().items():
                env.setenv(key, value)
            workspace = f"s3://{TEST_BUCKET}/{secrets.token_hex(6)}"
            yield StoreSpec("postgres", server.url(name), workspace)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def spec_in_env(
    backend: str, request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreSpec:
    """The store the CLI uses with MAILATLAS_HOME at ``home``: SQLite + files at its
    default place, or PostgreSQL + S3 named by MAILATLAS_DB and MAILATLAS_WORKSPACE, as
    an operator would set them."""
    spec = spec_for(backend, request, home)
    if spec.backend != "sqlite":
        for name, value in spec.env().items():
            monkeypatch.setenv(name, value)
    return spec


def read_located(where: str) -> bytes:
    """The bytes of a blob as a store reports its place: a local path or an s3:// URL."""
    if where.startswith("s3://"):
        import boto3
        from botocore.config import Config

        bucket, _, key = where.removeprefix("s3://").partition("/")
        client = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    return Path(where).read_bytes()


def located_exists(where: str) -> bool:
    if where.startswith("s3://"):
        from botocore.exceptions import ClientError

        try:
            read_located(where)
        except ClientError:
            return False
        return True
    return Path(where).exists()


# For a test that uses a ``store_spec``-based fixture but is about SQLite or local files.
sqlite_only = pytest.mark.parametrize("store_spec", ["sqlite"], indirect=True)


def blob_sizes(spec: StoreSpec) -> dict[str, int]:
    """Every blob of the store's workspace, by its place (as ``show`` prints it): size."""
    if spec.workspace.startswith("s3://"):
        import boto3
        from botocore.config import Config

        bucket, _, prefix = spec.workspace.removeprefix("s3://").partition("/")
        client = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        return {
            f"s3://{bucket}/{obj['Key']}": int(obj["Size"])
            for page in pages
            for obj in page.get("Contents", [])
        }
    root = Path(spec.workspace).absolute()
    return {str(p): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def is_postgres(db: str | Path) -> bool:
    return str(db).startswith("postgresql://")


def store_rows(db: str | Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on the store's database: an SQLite file or a PostgreSQL URL (for
    what the Store API does not read back, e.g. the ``runs`` table)."""
    if is_postgres(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as pg:
            return [tuple(r) for r in pg.execute(sql.encode()).fetchall()]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [tuple(r) for r in conn.execute(sql)]


@functools.cache
def _observer(url: str) -> Any:
    """One autocommit connection per database for polling (a fresh PostgreSQL
    connection forks a server process: too slow to make at every poll)."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


def committed(spec: StoreSpec) -> int:
    """How many documents another process has committed to the store so far (0 before
    its schema exists), read as an outside observer would, on either backend."""
    if not is_postgres(spec.db):
        from tests.hostile.helpers import committed_documents

        return committed_documents(Path(spec.db))
    return int(_observer(spec.db).execute(b"SELECT count(*) FROM documents").fetchone()[0])


def raw_blobs(spec: StoreSpec) -> set[str]:
    """The places of the store's raw message blobs (``raw/...``)."""
    return {where for where in blob_sizes(spec) if "/raw/" in where}


def message_ids(spec: StoreSpec) -> list[str]:
    """Every stored Message-ID, sorted (a message stored twice shows up twice)."""
    return sorted(str(r[0]) for r in store_rows(spec.db, "SELECT message_id FROM documents"))


def assert_consistent(spec: StoreSpec, *, hashes: bool = True) -> int:
    """The store holds no row without its blobs; returns the document count.

    SQLite + files: ``PRAGMA integrity_check``, foreign keys, the search index and every
    raw and asset file's hash. PostgreSQL + S3 (which enforces its keys itself): every
    document's raw blob and every asset's blob exists, and with ``hashes`` matches its
    hash (read through the store's blobs; one listing answers existence)."""
    if not is_postgres(spec.db):
        from tests.hostile.helpers import assert_consistent as sqlite_consistent

        return sqlite_consistent(Path(spec.db), Path(spec.workspace))
    docs = store_rows(spec.db, "SELECT raw_path, content_hash FROM documents")
    assets = store_rows(spec.db, "SELECT file_path, sha256 FROM assets")
    present = blob_sizes(spec)
    wanted = [(str(key), str(digest)) for key, digest in docs + assets]
    missing = [key for key, _ in wanted if spec.located(key) not in present]
    assert not missing, f"rows without their blobs: {missing[:5]}"
    if hashes:
        with spec.open(create=False) as store:
            for key, digest in wanted:
                assert hashlib.sha256(store.blobs.get(key)).hexdigest() == digest, key
    return len(docs)
