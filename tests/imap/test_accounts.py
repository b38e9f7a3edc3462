"""The accounts file (``mailatlas.toml``): what it accepts, what it refuses, and where
each secret comes from. No server here: tests/integration/test_accounts.py syncs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mailatlas_imap import (
    AccountsFileError,
    SecretUnavailableError,
    find_accounts_file,
    load_accounts,
)
from mailatlas_imap._accounts import config_search_path

SECRET = "Zq8-literal-Secret-77"
CA = Path(__file__).parent / "ca.pem"


def write(tmp_path: Path, text: str, name: str = "mailatlas.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_two_accounts_with_defaults_and_both_secret_sources(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[defaults]
host = "imap.example.com"
max_connections = 3

[accounts.work]
username = "me@example.com"
folders = ["INBOX", "Newsletters"]
password_env = "WORK_PW"
ca_file = "{CA.name}"

[accounts.news]
host = "127.0.0.1"
port = 1143
tls = "none"
username = "news"
auth = "xoauth2"
access_token_command = ["printf", "tok-%s", "42"]
max_connections = 1
timeout = 5
batch_size = 20
""",
    )
    (tmp_path / CA.name).write_bytes(CA.read_bytes())
    accounts = load_accounts(path)
    assert list(accounts.accounts) == ["work", "news"]
    work, news = accounts.accounts["work"], accounts.accounts["news"]
    assert (work.host, work.port, work.tls, work.auth) == (
        "imap.example.com",
        993,
        "implicit",
        "password",
    )
    assert work.folders == ("INBOX", "Newsletters")
    assert work.max_connections == 3
    assert work.ca_file == str(tmp_path / CA.name)  # relative to the file
    assert (news.port, news.tls, news.max_connections, news.timeout) == (1143, "none", 1, 5.0)
    assert news.sync_config().access_token == "tok-42"
    assert (news.sync_config().batch_size, work.batch_size) == (20, None)
    assert accounts.select(["news"]) == [news]
    assert accounts.select(all_accounts=True) == [work, news]


def test_port_defaults_follow_tls(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[accounts.a]
host = "localhost"
username = "a"
tls = "starttls"
password_env = "A_PW"
""",
    )
    assert load_accounts(path).accounts["a"].port == 143


@pytest.mark.parametrize("key", ["password", "access_token", "token", "secret"])
def test_a_literal_secret_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    path = write(
        tmp_path,
        f"""
[accounts.work]
host = "imap.example.com"
username = "me"
{key} = "{SECRET}"
""",
    )
    with pytest.raises(AccountsFileError) as caught:
        load_accounts(path)
    message = str(caught.value)
    assert SECRET not in message
    assert f"holds a literal {key}" in message
    assert "never reads a secret from a file" in message
    assert "_env" in message and "_command" in message


def test_a_literal_secret_in_defaults_is_refused_too(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[defaults]
password = "{SECRET}"
[accounts.work]
host = "imap.example.com"
username = "me"
""",
    )
    with pytest.raises(AccountsFileError, match="literal password") as caught:
        load_accounts(path)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('host = "h"\nusername = "u"', "give exactly one of password_env and password_command"),
        (
            'host = "h"\nusername = "u"\npassword_env = "A"\npassword_command = "b"',
            "give exactly one of password_env and password_command",
        ),
        (
            'host = "h"\nusername = "u"\nauth = "xoauth2"\npassword_env = "A"',
            "password_env does not go with auth = 'xoauth2'",
        ),
        ('host = "h"\nusername = "u"\nauth = "kerberos"\npassword_env = "A"', "auth must be"),
        ('host = "h"\nusername = "u"\npassword_env = "A"\nhots = "x"', "unknown key 'hots'"),
        ('host = "h"\nusername = "u"\npassword_env = "A"\nport = "993"', "port has the wrong type"),
        ('host = "h"\nusername = "u"\npassword_env = "A"\nfolders = [1]', "folders must be"),
        ('host = "h"\nusername = "u"\npassword_env = "A"\nmax_connections = 0', "at least 1"),
        ('username = "u"\npassword_env = "A"', "IMAP host is missing"),
        ('host = "h"\npassword_env = "A"', "IMAP username is missing"),
        ('host = "h"\nusername = "u"\npassword_env = ""', "password_env is empty"),
        ('host = "h"\nusername = "u"\npassword_command = []', "non-empty list"),
        (
            'host = "imap.example.com"\nusername = "u"\npassword_env = "A"\ntls = "none"',
            "refusing plaintext IMAP to imap.example.com: tls='none'",
        ),
        (
            'host = "h"\nusername = "u"\npassword_env = "A"\nca_file = "missing.pem"',
            "CA file not found: ca_file=",
        ),
    ],
)
def test_an_unusable_account_names_file_account_and_problem(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, f"[accounts.work]\n{body}\n")
    with pytest.raises(AccountsFileError) as caught:
        load_accounts(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: account 'work': "), message
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[accounts.work\n", "is not valid TOML"),
        ('accounts = "x"\n', "[accounts] must be a table"),
        ("[mailboxes.work]\n", "unknown top-level key 'mailboxes'"),
        ('[accounts."bad name"]\nhost = "h"\n', "account name 'bad name' may hold only"),
    ],
)
def test_a_broken_file_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(AccountsFileError) as caught:
        load_accounts(write(tmp_path, text))
    assert expected in str(caught.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AccountsFileError, match="does not exist"):
        load_accounts(tmp_path / "nope.toml")
    with pytest.raises(AccountsFileError, match="is a directory"):
        load_accounts(tmp_path)


def test_unknown_account_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[accounts.a]\nhost = "h"\nusername = "u"\npassword_env = "A"\n')
    with pytest.raises(AccountsFileError, match=r"no account 'b' in .* \(accounts: a\)"):
        load_accounts(path).select(["b"])
    empty = write(tmp_path, "", "empty.toml")
    with pytest.raises(AccountsFileError, match=r"no \[accounts\.NAME\] table"):
        load_accounts(empty).select(all_accounts=True)


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILATLAS_CONFIG", raising=False)
    monkeypatch.setenv("MAILATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_search_path() == [
        Path("mailatlas.toml"),
        tmp_path / "home" / "mailatlas.toml",
        tmp_path / "xdg" / "mailatlas" / "mailatlas.toml",
    ]
    with pytest.raises(AccountsFileError, match=r"no accounts file found .* --config FILE"):
        find_accounts_file()
    xdg = tmp_path / "xdg" / "mailatlas" / "mailatlas.toml"
    xdg.parent.mkdir(parents=True)
    xdg.write_text("")
    assert find_accounts_file() == xdg
    home = tmp_path / "home" / "mailatlas.toml"
    home.parent.mkdir()
    home.write_text("")
    assert find_accounts_file() == home
    Path("mailatlas.toml").write_text("")
    assert find_accounts_file() == Path("mailatlas.toml")
    monkeypatch.setenv("MAILATLAS_CONFIG", str(tmp_path / "chosen.toml"))
    assert find_accounts_file() == tmp_path / "chosen.toml"
    assert find_accounts_file(tmp_path / "given.toml") == tmp_path / "given.toml"


def _one(tmp_path: Path, source: str) -> str:
    path = write(tmp_path, f'[accounts.work]\nhost = "h"\nusername = "u"\n{source}\n')
    return load_accounts(path).accounts["work"].sync_config().secret


def test_secret_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORK_PW", SECRET)
    assert _one(tmp_path, 'password_env = "WORK_PW"') == SECRET
    monkeypatch.delenv("WORK_PW")
    with pytest.raises(
        SecretUnavailableError,
        match=r"^account 'work': environment variable WORK_PW is not set \(password_env\)$",
    ):
        _one(tmp_path, 'password_env = "WORK_PW"')
    monkeypatch.setenv("WORK_PW", "")
    with pytest.raises(SecretUnavailableError, match="gave no secret"):
        _one(tmp_path, 'password_env = "WORK_PW"')


def test_secret_from_a_shell_command_is_its_first_line(tmp_path: Path) -> None:
    command = f"printf '%s\\nsecond line\\n' '{SECRET}'"
    assert _one(tmp_path, f'password_command = "{command}"') == SECRET
    argv = f'password_command = ["{sys.executable}", "-c", "print(\'{SECRET}\')"]'
    assert _one(tmp_path, argv) == SECRET


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"'echo {SECRET}; echo {SECRET} >&2; exit 3'", "failed (exit status 3)"),
        ("'true'", "gave no secret"),
        (r"""'printf "\377\376"'""", "not UTF-8"),
        ('["/nonexistent/secret-tool"]', "could not be run"),
    ],
)
def test_a_failing_command_fails_without_showing_output(
    tmp_path: Path, command: str, expected: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SecretUnavailableError) as caught:
        _one(tmp_path, f"password_command = {command}")
    message = str(caught.value)
    assert message.startswith("account 'work': password_command ")
    assert expected in message
    assert SECRET not in message
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err  # its stderr is not passed on


def test_repr_of_account_and_source_shows_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORK_PW", SECRET)
    text = '[accounts.work]\nhost = "h"\nusername = "u"\npassword_env = "WORK_PW"\n'
    path = write(tmp_path, text)
    account = load_accounts(path).accounts["work"]
    config = account.sync_config(folders=("A", "B"))
    assert config.folders == ("A", "B")
    assert SECRET not in repr(account) and SECRET not in repr(config)
    assert "WORK_PW" in repr(account.secret)
