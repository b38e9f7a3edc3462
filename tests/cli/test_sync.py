"""``mailatlas sync imap`` against a real private Dovecot (marker ``dovecot``)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli._main import cli

from devkit.dovecot import DovecotServer, dovecot_available, free_port
from devkit.mailgen import generate_messages

from .test_ingest import REF_KEYS

PASSWORD = "s3cret-Pa55-word"


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    if not dovecot_available():
        msg = "dovecot-imapd/openssl not installed (apt-get install dovecot-imapd openssl)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; CI requires them")
        pytest.skip(msg)
    srv = DovecotServer(users={"carol": PASSWORD})
    try:
        srv.start()
        messages = list(generate_messages(12, seed=5))
        srv.fill_maildir("carol", "INBOX", messages[:8])
        srv.fill_maildir("carol", "Newsletters", messages[8:])
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def imap_env(server: DovecotServer, home: Path) -> dict[str, str]:
    return {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_PORT": str(server.imaps_port),
        "MAILATLAS_IMAP_USERNAME": "carol",
        "MAILATLAS_IMAP_PASSWORD": PASSWORD,
        "MAILATLAS_IMAP_CA_FILE": str(server.cert_path),
    }


FOLDERS = ["--folder", "INBOX", "--folder", "Newsletters"]


@pytest.mark.dovecot
def test_sync_twice_second_run_fetches_nothing(
    runner: CliRunner, imap_env: dict[str, str], server: DovecotServer, home: Path
) -> None:
    first = runner.invoke(cli, ["sync", "imap", *FOLDERS], env=imap_env)
    assert first.exit_code == 0, first.output
    assert first.stderr == ""
    summary = json.loads(first.stdout)
    assert list(summary)[:10] == [
        "status",
        "host",
        "port",
        "auth",
        "folder_count",
        "error_count",
        "fetched_count",
        "ingested_count",
        "duplicate_count",
        "folders",
    ]
    assert summary["status"] == "ok"
    assert (summary["host"], summary["port"], summary["auth"]) == (
        "127.0.0.1",
        server.imaps_port,
        "password",
    )
    assert (summary["folder_count"], summary["error_count"]) == (2, 0)
    assert (summary["fetched_count"], summary["ingested_count"]) == (12, 12)
    inbox, news = summary["folders"]
    assert (inbox["folder"], inbox["status"], inbox["last_uid"]) == ("INBOX", "ok", 8)
    assert (news["folder"], news["fetched_count"], news["error"]) == ("Newsletters", 4, None)
    # The same ref shape as `ingest` and `list` print: the seed's four fields first.
    assert [list(r) for r in inbox["document_refs"]] == [REF_KEYS] * 8
    assert inbox["document_refs"][0]["source_kind"] == "imap"

    second = runner.invoke(cli, ["sync", "imap", *FOLDERS, "--quiet"], env=imap_env)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert (again["status"], again["fetched_count"], again["ingested_count"]) == ("ok", 0, 0)
    assert [f["document_refs"] for f in again["folders"]] == [[], []]

    listed = json.loads(runner.invoke(cli, ["list", "--folder", "Newsletters"]).stdout)
    # list adds each IMAP document's live flags per folder (none set here).
    assert [r.pop("imap_flags") for r in listed] == [{"Newsletters": []}] * 4
    assert sorted(listed, key=lambda r: r["id"]) == sorted(
        news["document_refs"], key=lambda r: r["id"]
    )
    # the password is nowhere in the store
    for path in [home / "store.db", *home.rglob("*")]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def _no_traceback_no_secret(output: str) -> None:
    assert "Traceback" not in output
    assert PASSWORD not in output


@pytest.mark.dovecot
def test_wrong_password(runner: CliRunner, imap_env: dict[str, str]) -> None:
    env = {**imap_env, "MAILATLAS_IMAP_PASSWORD": "not-the-password"}
    result = runner.invoke(cli, ["sync", "imap", "--retries", "0"], env=env)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "error"
    assert summary["fetched_count"] == 0
    assert summary["folders"][0]["status"] == "error"
    error = summary["folders"][0]["error"]
    assert error and "not-the-password" not in result.output
    assert result.stderr == (
        f"Error: {error} — check --username and the password or access token, then rerun\n"
    )
    assert "refused the password for carol" in error
    _no_traceback_no_secret(result.output)


@pytest.mark.dovecot
def test_refused_connection_is_reported_at_once(
    runner: CliRunner, imap_env: dict[str, str], home: Path
) -> None:
    port = free_port()  # nothing listens there
    env = {**imap_env, "MAILATLAS_IMAP_PORT": str(port)}
    started = time.monotonic()
    result = runner.invoke(cli, ["sync", "imap"], env=env)  # the default --retries 3
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "error"
    error = summary["folders"][0]["error"]
    assert error == (
        f"127.0.0.1:{port} refused the connection: nothing listens there; check --host and --port"
    )
    assert result.stderr == f"Error: {error}\n"  # no "reconnecting" warnings: no retries
    # The summary tells the truth: no retries, the time it took, the run it recorded.
    assert summary["retries"] == 0 and summary["folders"][0]["retries"] == 0
    assert 0 < summary["duration_s"] <= elapsed
    assert elapsed < 6  # was 7 s of backoff (1 + 2 + 4) before three more refusals
    with sqlite3.connect(home / "store.db") as db:
        status, stored = db.execute(
            "SELECT status, summary FROM runs WHERE id = ?", (summary["run_id"],)
        ).fetchone()
    assert status == "error" and json.loads(stored)["folders"][0]["error"] == error
    _no_traceback_no_secret(result.output)


@pytest.mark.dovecot
def test_untrusted_certificate(runner: CliRunner, imap_env: dict[str, str]) -> None:
    env = {k: v for k, v in imap_env.items() if k != "MAILATLAS_IMAP_CA_FILE"}
    result = runner.invoke(cli, ["sync", "imap", "--retries", "0"], env=env)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "error"
    assert result.stderr.startswith("Error: TLS certificate of 127.0.0.1:")
    assert "--ca-file" in result.stderr
    assert result.stderr.count("\n") == 1
    _no_traceback_no_secret(result.output)


@pytest.mark.dovecot
@pytest.mark.parametrize(
    ("tls", "port", "expected"),
    [
        (
            "none",
            "imaps_port",
            "sent no IMAP greeting within 2 s; if that port expects TLS from the first byte"
            " (usually 993), use --tls implicit",
        ),
        ("implicit", "imap_port", "does not speak TLS from the first byte ("),
    ],
)
def test_tls_mode_that_does_not_match_the_port_fails_fast_with_a_hint(
    runner: CliRunner,
    imap_env: dict[str, str],
    server: DovecotServer,
    tls: str,
    port: str,
    expected: str,
) -> None:
    env = {**imap_env, "MAILATLAS_IMAP_PORT": str(getattr(server, port))}
    started = time.monotonic()
    result = runner.invoke(cli, ["sync", "imap", "--tls", tls, "--timeout", "2"], env=env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["retries"] == 0  # a retry cannot fix a mismatch: it used to take 4 x 60 s
    assert expected in result.stderr
    assert result.stderr.startswith("Error: 127.0.0.1:") and result.stderr.count("\n") == 1
    assert elapsed < 20
    _no_traceback_no_secret(result.output)


def test_ca_file_that_is_not_a_certificate(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate\n")
    args = ["sync", "imap", "--host", "h.example", "--username", "me", "--ca-file", str(ca)]
    _usage(
        runner.invoke(cli, args, env={"MAILATLAS_IMAP_PASSWORD": "pw"}),
        f"--ca-file {ca} is not a PEM certificate file (no certificate or crl found)",
    )
    assert not home.exists()


@pytest.mark.dovecot
def test_missing_folder_is_partial(runner: CliRunner, imap_env: dict[str, str]) -> None:
    result = runner.invoke(
        cli, ["sync", "imap", "--folder", "INBOX", "--folder", "Nope"], env=imap_env
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "partial"
    assert [f["status"] for f in summary["folders"]] == ["ok", "error"]
    assert result.stderr.startswith("Error: sync partial: Nope: ")
    assert result.stderr.count("\n") == 1
    _no_traceback_no_secret(result.output)


# -- usage errors: no server needed ---------------------------------------------------


def _usage(result: object, message: str) -> None:
    from click.testing import Result

    assert isinstance(result, Result)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


def test_missing_credentials(runner: CliRunner, home: Path) -> None:
    base = {"MAILATLAS_IMAP_HOST": "imap.example.com", "MAILATLAS_IMAP_USERNAME": "me"}
    _usage(
        runner.invoke(cli, ["sync", "imap"], env=base),
        "no IMAP password given — set MAILATLAS_IMAP_PASSWORD or pass --password "
        "(for OAuth use --auth xoauth2 with MAILATLAS_IMAP_ACCESS_TOKEN)",
    )
    _usage(
        runner.invoke(cli, ["sync", "imap", "--auth", "xoauth2"], env=base),
        "no OAuth access token given — set MAILATLAS_IMAP_ACCESS_TOKEN or pass "
        "--access-token (MailAtlas does not run an OAuth login flow)",
    )
    _usage(
        runner.invoke(cli, ["sync", "imap", "--username", "me", "--password", "x"]),
        "no IMAP host given — pass --host or set MAILATLAS_IMAP_HOST",
    )
    _usage(
        runner.invoke(cli, ["sync", "imap", "--host", "h.example", "--password", "x"]),
        "no IMAP username given — pass --username or set MAILATLAS_IMAP_USERNAME",
    )
    assert not home.exists()


def test_plaintext_to_a_remote_host_is_refused(runner: CliRunner, home: Path) -> None:
    args = ["sync", "imap", "--host", "imap.example.com", "--username", "me", "--tls", "none"]
    _usage(
        runner.invoke(cli, args, env={"MAILATLAS_IMAP_PASSWORD": "pw"}),
        "refusing plaintext IMAP to imap.example.com: --tls none is only allowed for a "
        "loopback address; use --tls implicit or --tls starttls",
    )


def test_ca_file_that_is_a_directory(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    args = ["sync", "imap", "--host", "h.example", "--username", "me", "--ca-file", str(tmp_path)]
    _usage(
        runner.invoke(cli, args, env={"MAILATLAS_IMAP_PASSWORD": "pw"}),
        f"--ca-file {tmp_path} is a directory — pass the CA certificate file (PEM)",
    )
