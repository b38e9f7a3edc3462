"""ImapSyncConfig validation: what is refused before any connection is made."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from mailatlas_imap import ImapConfigError, ImapError, ImapSyncConfig, is_loopback_host

SECRET = "hunter2-very-secret-value"


def make(**kw: object) -> ImapSyncConfig:
    values: dict[str, object] = {"host": "imap.example.com", "username": "me", "password": SECRET}
    values.update(kw)
    return ImapSyncConfig(**values)  # type: ignore[arg-type]


def test_defaults_match_the_cli_contract() -> None:
    c = make()
    assert (c.port, c.auth, c.folders, c.tls, c.ca_file) == (
        993,
        "password",
        ("INBOX",),
        "implicit",
        None,
    )
    assert c.parser_config is None  # the caller's flags (the facade's), else the defaults
    assert c.timeout > 0 and c.batch_size >= 1 and c.max_retries >= 0


def test_positional_host_port_username() -> None:
    c = ImapSyncConfig("imap.example.com", 143, "me", tls="starttls", password=SECRET)
    assert (c.host, c.port, c.username) == ("imap.example.com", 143, "me")


@pytest.mark.parametrize("auth", ["password", "xoauth2"])
def test_repr_and_str_never_show_the_credential(auth: str) -> None:
    c = make(
        auth=auth,
        password=SECRET if auth == "password" else None,
        access_token=SECRET if auth == "xoauth2" else None,
    )
    for text in (repr(c), str(c), f"{c}", repr([c])):
        assert SECRET not in text
        assert "***" in text


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().password = "x"  # type: ignore[misc]


def test_a_single_folder_string_becomes_a_tuple() -> None:
    assert make(folders="Archive").folders == ("Archive",)
    assert make(folders=["A", "Ü"]).folders == ("A", "Ü")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"password": None}, "needs a password"),
        ({"password": ""}, "needs a password"),
        ({"auth": "xoauth2", "password": None}, "needs an access token"),
        ({"auth": "oauth"}, "auth must be"),
        ({"tls": "ssl"}, "tls must be"),
        ({"tls": "none"}, "refusing plaintext IMAP to imap.example.com"),
        ({"tls": "none", "host": "10.0.0.1"}, "refusing plaintext"),
        ({"tls": "none", "host": "localhost.example.com"}, "refusing plaintext"),
        ({"host": ""}, "host is missing"),
        ({"host": "imap example.com"}, "host is missing or invalid"),
        ({"username": ""}, "username is missing"),
        ({"port": 0}, "port must be"),
        ({"port": 70000}, "port must be"),
        ({"folders": ()}, "no folders"),
        ({"folders": ("INBOX", "INBOX")}, "listed twice"),
        ({"folders": ("bad\r\nname",)}, "invalid folder name"),
        ({"password": "a\r\nb"}, "line break"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"command_timeout": -1}, "command_timeout must be positive"),
        ({"max_message_bytes": 0}, "max_message_bytes must be positive"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_retries": -1}, "max_retries"),
        ({"ca_file": "/nonexistent/ca.pem"}, "CA file not found"),
        ({"parser_config": {"strip_boilerplate": True}}, "parser_config"),
    ],
)
def test_invalid_configs_are_refused(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ImapConfigError, match=match) as info:
        make(**kw)
    assert isinstance(info.value, ImapError) and isinstance(info.value, ValueError)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "localhost."]
)
def test_plaintext_is_allowed_to_loopback_when_asked(host: str) -> None:
    assert is_loopback_host(host)
    assert make(host=host, tls="none").tls == "none"


@pytest.mark.parametrize(
    "host",
    ["imap.example.com", "10.0.0.1", "0.0.0.0", "::", "192.168.1.1", "127.0.0.1.example.com"],
)
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback_host(host)


CA_PEM = Path(__file__).with_name("ca.pem")  # a self-signed certificate (openssl req -x509)


def test_ca_file_accepts_a_path() -> None:
    assert make(ca_file=CA_PEM).ca_file == str(CA_PEM)


@pytest.mark.parametrize(
    "content", [b"x", b"", b"\x00\xff" * 100, b"-----BEGIN CERTIFICATE-----\n"]
)
def test_ca_file_that_is_not_a_certificate(tmp_path: Path, content: bytes) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(content)
    with pytest.raises(ImapConfigError) as info:
        make(ca_file=ca)
    assert str(info.value).startswith(f"ca_file={str(ca)!r} is not a PEM certificate file (")


def test_messages_use_python_or_cli_spelling() -> None:
    from mailatlas_imap._errors import cli_spelling

    with pytest.raises(ImapConfigError) as python:
        make(tls="none")
    with cli_spelling(), pytest.raises(ImapConfigError) as cli:
        make(tls="none")
    assert str(python.value) == (
        "refusing plaintext IMAP to imap.example.com: tls='none' is only allowed for a"
        " loopback address; use tls='implicit' or tls='starttls'"
    )
    assert str(cli.value) == (
        "refusing plaintext IMAP to imap.example.com: --tls none is only allowed for a"
        " loopback address; use --tls implicit or --tls starttls"
    )
    with pytest.raises(ImapConfigError, match=r"give password='\.\.\.'$"):
        make(password=None)  # a Python caller is not told to set an environment variable
    with pytest.raises(ImapConfigError, match=r"give access_token='\.\.\.'$"):
        make(auth="xoauth2", password=None)
