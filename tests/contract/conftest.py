"""The backend-neutral contract suite: every test runs on each store backend.

``store`` is parametrised over ``sqlite`` (an SQLite file and a local workspace) and
``postgres`` (a fresh PostgreSQL database and a fresh prefix of a SeaweedFS bucket,
both real servers started once per session, see tests/servers.py). The postgres
parameter is marked ``heavy`` (run once, on Python 3.11). A test here may only use what
the public ``Store`` protocol and ``open_store`` offer, so it holds for every backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def spec_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    if backend == "sqlite":
        return StoreSpec("sqlite", str(tmp_path / "store.db"), str(tmp_path / "workspace"))
    return StoreSpec(
        "postgres", request.getfixturevalue("pg_url"), request.getfixturevalue("s3_workspace")
    )


@pytest.fixture(params=BACKENDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    return spec_for(request.param, request, tmp_path)


@pytest.fixture
def store(spec: StoreSpec) -> Iterator[Store]:
    s = spec.open()
    try:
        yield s
    finally:
        s.close()


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
