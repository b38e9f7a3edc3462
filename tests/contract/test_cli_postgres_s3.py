"""The CLI end to end on PostgreSQL + S3: a real sync from Dovecot, then list, show, export.

``mailatlas`` runs as a real process with ``--db postgresql://ROLE@HOST:PORT/DB`` and
``--workspace s3://BUCKET/PREFIX``. The role needs a password, given only in
``PGPASSWORD``; the S3 keys only in ``AWS_*``. Neither secret (nor the IMAP password)
may appear in any row of the database, any blob of the workspace, the output, or the
server logs MailAtlas could have written into.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer
from devkit.postgres import PostgresServer
from devkit.seaweedfs import SeaweedServer, s3_client
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Mailbox, dovecot, mailbox, messages
from tests.servers import TEST_BUCKET

pytestmark = [pytest.mark.heavy, pytest.mark.dovecot, pytest.mark.slow]
__all__ = ["dovecot", "mailbox"]  # fixtures shared from tests/integration


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailatlas_cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _dump_database(pg: PostgresServer, name: str) -> str:
    """Every row of every table, as text (what a backup of the database would hold)."""
    tables = pg.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", name
    ).split()
    return "\n".join(pg.psql(f"SELECT t::text FROM {t} AS t", name) for t in tables)


def _all_blobs(server: SeaweedServer, prefix: str) -> bytes:
    client = s3_client(server)
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=TEST_BUCKET, Prefix=prefix + "/"
    ):
        for item in page.get("Contents", ()):
            out.append(client.get_object(Bucket=TEST_BUCKET, Key=item["Key"])["Body"].read())
    return b"\n".join(out)


def test_sync_list_show_export_on_postgres_and_s3(
    dovecot: DovecotServer,
    mailbox: Mailbox,
    postgres_server: PostgresServer,
    seaweed_server: SeaweedServer,
    tmp_path: Path,
) -> None:
    role, db_password = "r_" + secrets.token_hex(4), "pg-" + secrets.token_hex(12)
    postgres_server.create_role(role, db_password)
    name = "cli_" + secrets.token_hex(4)
    url = postgres_server.create_database(name, owner=role)
    prefix = "cli-" + secrets.token_hex(4)
    workspace = f"s3://{TEST_BUCKET}/{prefix}"
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(9, tag="pgcli"))
    dovecot.fill_maildir(mailbox.user, "Archive", messages(3, tag="pgcli", start=6))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILATLAS_", "PG", "AWS_"))}
    env.update(
        seaweed_server.env(),
        PGPASSWORD=db_password,
        PGPASSFILE=str(tmp_path / "no-pgpass"),
        HOME=str(tmp_path),
        MAILATLAS_DB=url,
        MAILATLAS_WORKSPACE=workspace,
        MAILATLAS_IMAP_HOST="127.0.0.1",
        MAILATLAS_IMAP_PORT=str(mailbox.server.imaps_port),
        MAILATLAS_IMAP_USERNAME=mailbox.user,
        MAILATLAS_IMAP_PASSWORD=mailbox.password,
        MAILATLAS_IMAP_CA_FILE=str(mailbox.server.cert_path),
        PYTHONPATH=str(REPO_ROOT),
    )
    outputs: list[str] = []

    def run(*args: str, expect: int = 0, **extra: str) -> subprocess.CompletedProcess[str]:
        result = _run(list(args), {**env, **extra}, tmp_path)
        outputs.extend([result.stdout, result.stderr])
        assert result.returncode == expect, result.stderr
        return result

    # without the password the database refuses: one plain line, exit 1, nothing stored
    denied = _run(["list"], {**env, "PGPASSWORD": ""}, tmp_path)
    assert denied.returncode == 1 and "Traceback" not in denied.stderr
    assert len(denied.stderr.strip().splitlines()) == 1
    # a URL that carries the password is refused before anything connects
    leaky = url.replace(f"{role}@", f"{role}:{db_password}@")
    refused = _run(["list", "--db", leaky], env, tmp_path)
    assert refused.returncode != 0 and db_password not in refused.stderr + refused.stdout

    first = run("sync", "imap", "--folder", "INBOX", "--folder", "Archive")
    summary = json.loads(first.stdout)
    assert (summary["ingested_count"], summary["duplicate_count"]) == (9, 3)
    again = json.loads(run("sync", "imap", "--folder", "INBOX", "--folder", "Archive").stdout)
    assert (again["fetched_count"], again["ingested_count"]) == (0, 0)

    listed = json.loads(run("list", "--limit", "50").stdout)
    assert len(listed) == 9
    assert len(json.loads(run("list", "--folder", "Archive").stdout)) == 3
    found = json.loads(run("list", "--query", '"message pgcli 4"').stdout)
    assert [d["subject"] for d in found] == ["Message pgcli 4"]
    doc_id = found[0]["id"]
    shown = json.loads(run("show", doc_id).stdout)
    assert shown["subject"] == "Message pgcli 4"
    assert "Hello, this is message 4 of pgcli." in shown["body_text"]
    assert shown["raw_path"].startswith(f"{workspace}/raw/")
    out_dir = tmp_path / "exports"
    run("export", doc_id, "--format", "markdown", "--out", str(out_dir) + "/")
    exported = "".join(p.read_text() for p in out_dir.rglob("*") if p.is_file())
    assert "Hello, this is message 4 of pgcli." in exported

    secrets_ = [db_password, seaweed_server.secret_key, mailbox.password]
    database = _dump_database(postgres_server, name)
    blobs = _all_blobs(seaweed_server, prefix)
    assert database and blobs
    for secret in secrets_:
        assert secret not in database
        assert secret.encode() not in blobs
        assert all(secret not in text for text in outputs)
    for log in (postgres_server.log_path, seaweed_server.log_path):
        assert db_password not in log.read_text(errors="replace")
