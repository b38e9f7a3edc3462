"""Secrets after every auth scenario, through the real CLI: the password and the token
are in no file of the store or workspace, not on stdout or stderr, and not in
Dovecot's log. (tests/integration/test_auth.py proves the same for the library.)
A scripted server that echoes the credential back, in every form it was sent, proves
MailAtlas masks those forms too.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer, make_token
from devkit.imapscript import Conn, ScriptedImap
from tests.hostile.helpers import REPO, cli_command, cli_env, run_cli
from tests.integration.conftest import files_containing, messages, new_mailbox


def _scenarios(server: DovecotServer) -> list[tuple[str, list[str], dict[str, str], str, int]]:
    """(name, extra args, env, secret, expected exit code) for each auth scenario."""
    good, wrong, oauth, expired = (new_mailbox(server) for _ in range(4))
    server.fill_maildir(good.user, "INBOX", messages(2, tag="sec"))
    server.fill_maildir(oauth.user, "INBOX", messages(2, tag="sec2"))
    base = {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_PORT": str(server.imaps_port),
        "MAILATLAS_IMAP_CA_FILE": str(server.cert_path),
    }
    token = oauth.token()
    stale = make_token(expired.user, server.oauth_key, time.time() - 60)
    return [
        ("password", ["--password", good.password], {**base, "MAILATLAS_IMAP_USERNAME": good.user},
         good.password, 0),
        ("password-env", [], {**base, "MAILATLAS_IMAP_USERNAME": good.user,
         "MAILATLAS_IMAP_PASSWORD": good.password}, good.password, 0),
        ("wrong-password", ["--password", "not-" + wrong.password],
         {**base, "MAILATLAS_IMAP_USERNAME": wrong.user}, "not-" + wrong.password, 1),
        ("xoauth2", ["--auth", "xoauth2", "--access-token", token],
         {**base, "MAILATLAS_IMAP_USERNAME": oauth.user}, token, 0),
        ("expired-token", ["--auth", "xoauth2"], {**base, "MAILATLAS_IMAP_USERNAME":
         expired.user, "MAILATLAS_IMAP_ACCESS_TOKEN": stale}, stale, 1),
    ]  # fmt: skip


@pytest.mark.dovecot
@pytest.mark.slow
def test_no_secret_anywhere_after_any_auth_scenario(dovecot: DovecotServer, tmp_path: Path) -> None:
    home = tmp_path / "home"  # one store for all scenarios: secrets must not pile up
    for name, args, env, secret, code in _scenarios(dovecot):
        done = subprocess.run(
            cli_command("sync", "imap", *args),
            capture_output=True,
            text=True,
            env=cli_env(home, **env),
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert done.returncode == code, (name, done.stderr)
        assert "Traceback" not in done.stderr, name
        assert secret not in done.stdout and secret not in done.stderr, name
        if code:
            assert done.stderr.startswith("Error: "), (name, done.stderr)
        assert files_containing(home, secret) == [], name
        log = dovecot.log_path.read_text(errors="replace")
        assert "imap-login" in log  # the log is real and being written
        assert secret not in log, name
        # Tokens are long JWTs: check their signature part on its own too.
        tail = secret.rsplit(".", 1)[-1]
        if len(tail) >= 16:
            assert files_containing(home, tail) == [] and tail not in log, name
    assert (home / "store.db").exists()


# -- a server that echoes what it got, in the form it got it -------------------------------


def _echo_login(conn: Conn, tag: str, args: str) -> None:
    # args is the client's line as sent: the password IMAP-quoted and backslash-escaped.
    conn.tagged(tag, "NO", f"[AUTHENTICATIONFAILED] no such login: {args}")


def _echo_sasl(conn: Conn, tag: str, args: str) -> None:
    conn.send(b"+ \r\n")
    line = conn.readline().decode().strip()
    conn.server.auth_lines.append(line)
    decoded = base64.b64decode(line).decode(errors="replace").replace("\x01", " ")
    conn.send(f"* OK you sent {line[9:61]}\r\n".encode())  # a slice, off any boundary
    conn.tagged(tag, "NO", f"[AUTHENTICATIONFAILED] bad token {line} ({decoded})")


@pytest.mark.parametrize("auth", ["password", "xoauth2"])
def test_a_secret_echoed_back_in_any_form_is_scrubbed_everywhere(tmp_path: Path, auth: str) -> None:
    secret = (
        'pa"ss\\wo rd-' + secrets.token_hex(12)
        if auth == "password"
        else make_token("user", secrets.token_bytes(32))
    )
    home = tmp_path / "home"
    with ScriptedImap() as server:
        server.on("LOGIN", _echo_login)
        server.on("AUTHENTICATE", _echo_sasl)
        env = {
            "MAILATLAS_IMAP_HOST": "127.0.0.1",
            "MAILATLAS_IMAP_PORT": str(server.port),
            "MAILATLAS_IMAP_USERNAME": "user",
            "MAILATLAS_IMAP_PASSWORD" if auth == "password" else "MAILATLAS_IMAP_ACCESS_TOKEN": (
                secret
            ),
        }
        done = run_cli(["sync", "imap", "--tls", "none", "--auth", auth], home, **env)
        sent = [c for c in server.commands if " LOGIN " in c.upper()] + server.auth_lines

    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: 127.0.0.1:") and done.stderr.count("\n") == 1
    assert "refused the" in done.stderr and "***" in done.stderr  # the echo is there, masked
    # Every form the secret went over the wire in, and the server's slices of it.
    if auth == "password":
        quoted = secret.replace("\\", "\\\\").replace('"', '\\"')
        assert quoted in sent[0]
        forms = [secret, quoted]
    else:
        (line,) = sent
        assert base64.b64decode(line) == f"user=user\1auth=Bearer {secret}\1\1".encode()
        forms = [secret, line, line[9:61], secret.rsplit(".", 1)[-1]]
    summary = json.loads(done.stdout)
    assert summary["folders"][0]["error"] in done.stderr
    for form in forms:
        assert form not in done.stdout and form not in done.stderr, form
        assert files_containing(home, form) == [], form  # runs.summary included
    with sqlite3.connect(home / "store.db") as db:
        (stored,) = db.execute("SELECT summary FROM runs").fetchone()
    assert "***" in stored
