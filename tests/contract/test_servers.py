"""The real servers the PostgreSQL + S3 contract runs on behave as the tests assume.

A password-protected role is refused without its password and admitted with
``PGPASSWORD``; the S3 gateway refuses a request signed with another key. Without these,
the credential tests of the backend would prove nothing.
"""

from __future__ import annotations

import secrets

import pytest

from devkit.postgres import PostgresServer
from devkit.seaweedfs import SeaweedServer, s3_client

pytestmark = pytest.mark.heavy


def test_postgres_role_needs_its_password(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    role, password = "r_" + secrets.token_hex(4), "pw-" + secrets.token_hex(8)
    postgres_server.create_role(role, password)
    url = postgres_server.create_database("d_" + secrets.token_hex(4), owner=role)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(url, connect_timeout=10).close()
    monkeypatch.setenv("PGPASSWORD", password)
    with psycopg.connect(url, connect_timeout=10) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


def test_s3_refuses_another_key(seaweed_server: SeaweedServer, s3_workspace: str) -> None:
    from botocore.exceptions import ClientError

    bucket, prefix = s3_workspace.removeprefix("s3://").split("/", 1)
    good = s3_client(seaweed_server)
    good.put_object(Bucket=bucket, Key=f"{prefix}/k", Body=b"data")
    assert good.get_object(Bucket=bucket, Key=f"{prefix}/k")["Body"].read() == b"data"
    with pytest.raises(ClientError):
        s3_client(seaweed_server, "wrong-secret").get_object(Bucket=bucket, Key=f"{prefix}/k")
