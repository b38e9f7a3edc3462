"""Secrets after every auth scenario, through the real CLI: the password and the token
are in no file of the store or workspace, not on stdout or stderr, and not in
Dovecot's log. (tests/integration/test_auth.py proves the same for the library.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer, make_token
from tests.hostile.helpers import REPO, cli_command, cli_env
from tests.integration.conftest import files_containing, messages, new_mailbox

pytestmark = pytest.mark.dovecot


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
