"""Many accounts from ``mailatlas.toml`` against the real Dovecot, through the real CLI.

Secrets come from environment variables and from commands (a "vault" directory the
command reads, as ``pass show`` would); one account has a wrong password and one an
unset variable: the others are synced all the same, the exit code is 1, and afterwards
no secret is in the store, the workspace, the accounts file, the output or the server's
log.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer
from tests.hostile.helpers import run_cli
from tests.integration.conftest import files_containing, messages, new_mailbox


def _account(name: str, user: str, server: DovecotServer, source: str, **extra: str) -> str:
    lines = [
        f"[accounts.{name}]",
        f'username = "{user}"',
        source,
        *(f"{k} = {v}" for k, v in extra.items()),
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.dovecot
@pytest.mark.slow
def test_accounts_file_isolates_failures_and_keeps_secrets_off_disk(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    env_box, cmd_box, wrong_box, oauth_box, unset_box = (new_mailbox(dovecot) for _ in range(5))
    dovecot.fill_maildir(env_box.user, "INBOX", messages(3, tag="acc-env"))
    dovecot.fill_maildir(env_box.user, "Archive", messages(2, tag="acc-env-arch"))
    dovecot.fill_maildir(cmd_box.user, "INBOX", messages(4, tag="acc-cmd"))
    dovecot.fill_maildir(wrong_box.user, "INBOX", messages(2, tag="acc-wrong"))
    dovecot.fill_maildir(oauth_box.user, "INBOX", messages(2, tag="acc-oauth"))
    dovecot.fill_maildir(unset_box.user, "INBOX", messages(1, tag="acc-unset"))
    token = oauth_box.token()
    wrong = "not-" + wrong_box.password
    vault = tmp_path / "vault"  # outside the store: what `pass`, a keyring... would read
    vault.mkdir()
    (vault / "cmd.pw").write_text(cmd_box.password + "\n")
    (vault / "oauth.token").write_text(token + "\n")
    conf = tmp_path / "conf" / "mailatlas.toml"
    conf.parent.mkdir()
    conf.write_text(
        "[defaults]\n"
        'host = "127.0.0.1"\n'
        f"port = {dovecot.imaps_port}\n"
        f'ca_file = "{dovecot.cert_path}"\n'
        "timeout = 10\n\n"
        + _account("env", env_box.user, dovecot, 'password_env = "ENV_PW"',
                   folders='["INBOX", "Archive"]')
        + _account("cmd", cmd_box.user, dovecot, f'password_command = "cat {vault}/cmd.pw"')
        + _account("wrong", wrong_box.user, dovecot, 'password_env = "WRONG_PW"')
        + _account("oauth", oauth_box.user, dovecot,
                   f'access_token_command = ["{sys.executable}", "-c",'
                   f' "print(open(\'{vault}/oauth.token\').read())"]',
                   auth='"xoauth2"')
        + _account("unset", unset_box.user, dovecot, 'password_env = "UNSET_PW"')
    )  # fmt: skip
    home = tmp_path / "home"
    secret_env = {"ENV_PW": env_box.password, "WRONG_PW": wrong}
    secrets = [env_box.password, cmd_box.password, wrong, token, token.rsplit(".", 1)[-1]]

    done = run_cli(["sync", "imap", "--config", str(conf), "--all-accounts"], home, **secret_env)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "partial"
    assert (summary["account_count"], summary["error_count"]) == (5, 2)
    by_name = {a["account"]: a for a in summary["accounts"]}
    assert [a["account"] for a in summary["accounts"]] == ["env", "cmd", "wrong", "oauth", "unset"]
    assert {n: a["status"] for n, a in by_name.items()} == {
        "env": "ok",
        "cmd": "ok",
        "wrong": "error",
        "oauth": "ok",
        "unset": "error",
    }
    assert {n: a["ingested_count"] for n, a in by_name.items()} == {
        "env": 5,
        "cmd": 4,
        "wrong": 0,
        "oauth": 2,
        "unset": 0,
    }
    assert summary["ingested_count"] == 11
    assert [f["folder"] for f in by_name["env"]["folders"]] == ["INBOX", "Archive"]
    assert by_name["env"]["host"] == "127.0.0.1" and by_name["oauth"]["auth"] == "xoauth2"
    assert by_name["env"]["error"] is None
    assert "authentication" in by_name["wrong"]["error"].lower(), by_name["wrong"]["error"]
    assert by_name["unset"]["error"] == (
        "account 'unset': environment variable UNSET_PW is not set (password_env)"
    )
    assert by_name["unset"]["folders"][0]["error"] == by_name["unset"]["error"]
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: 2 of 5 account(s) not synced fully: wrong: "), lines
    assert "unset: environment variable UNSET_PW is not set (password_env)" in lines[-1]

    # Rerun two accounts, the file found through $MAILATLAS_CONFIG: nothing new, exit 0.
    again = run_cli(
        ["sync", "imap", "--account", "cmd", "--account", "env", "-q"],
        home,
        MAILATLAS_CONFIG=str(conf),
        **secret_env,
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    rerun = json.loads(again.stdout)
    assert [a["account"] for a in rerun["accounts"]] == ["cmd", "env"]
    assert (rerun["status"], rerun["fetched_count"], rerun["ingested_count"]) == ("ok", 0, 0)

    listed = run_cli(["list", "--limit", "100"], home)
    assert len(json.loads(listed.stdout)) == 11

    log = dovecot.log_path.read_text(errors="replace")
    assert "imap-login" in log
    for secret in secrets:
        for text in (done.stdout, done.stderr, again.stdout, again.stderr, log):
            assert secret not in text
        assert files_containing(home, secret) == []
        assert files_containing(conf.parent, secret) == []


@pytest.mark.dovecot
def test_account_mode_refuses_connection_options_and_keeps_single_mode(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    box = new_mailbox(dovecot)
    dovecot.fill_maildir(box.user, "INBOX", messages(2, tag="acc-single"))
    conf = tmp_path / "mailatlas.toml"
    conf.write_text(
        f'[accounts.a]\nhost = "127.0.0.1"\nport = {dovecot.imaps_port}\n'
        f'username = "{box.user}"\nca_file = "{dovecot.cert_path}"\npassword_env = "A_PW"\n'
    )
    home = tmp_path / "home"
    refused = run_cli(
        ["sync", "imap", "--config", str(conf), "--account", "a", "--host", "x"], home
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "Error: --host cannot be combined with --account or --all-accounts: the accounts"
        " file gives each account's connection\n"
    )
    both = run_cli(
        ["sync", "imap", "--config", str(conf), "--account", "a", "--all-accounts"], home
    )
    assert (both.returncode, both.stderr) == (
        2,
        "Error: give --account NAME or --all-accounts, not both\n",
    )
    unknown = run_cli(["sync", "imap", "--config", str(conf), "--account", "b"], home)
    assert unknown.returncode == 2
    assert unknown.stderr == f"Error: no account 'b' in {conf} (accounts: a)\n"

    # The single-mailbox environment is ignored in account mode, and still works alone.
    single_env = {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_PORT": str(dovecot.imaps_port),
        "MAILATLAS_IMAP_USERNAME": box.user,
        "MAILATLAS_IMAP_PASSWORD": box.password,
        "MAILATLAS_IMAP_CA_FILE": str(dovecot.cert_path),
    }
    by_account = run_cli(
        ["sync", "imap", "--config", str(conf), "--account", "a", "--folder", "INBOX", "-q"],
        home,
        A_PW=box.password,
        MAILATLAS_IMAP_HOST="ignored.invalid",
    )
    assert by_account.returncode == 0, by_account.stderr
    assert json.loads(by_account.stdout)["accounts"][0]["ingested_count"] == 2
    single = run_cli(["sync", "imap", "-q"], home, **single_env)
    assert single.returncode == 0, single.stderr
    seed = json.loads(single.stdout)
    assert (seed["status"], seed["fetched_count"], seed["ingested_count"]) == ("ok", 0, 0)
