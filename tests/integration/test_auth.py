"""LOGIN and XOAUTH2 against a real Dovecot, and credentials never leaking anywhere."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from mailatlas_core import Store
from mailatlas_imap import ImapAuthError, sync_imap

from devkit.dovecot import DovecotServer, make_token

from .conftest import Mailbox, files_containing, messages, new_mailbox

pytestmark = pytest.mark.dovecot


def assert_secret_nowhere(
    secret: str,
    store_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    *texts: object,
) -> None:
    """The secret is in no file of the store or workspace, no output, log or message."""
    assert len(secret) >= 12
    assert files_containing(store_dir, secret) == []
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err
    assert all(secret not in r.getMessage() for r in caplog.records)
    for text in texts:
        assert secret not in str(text) and secret not in repr(text)


def test_password_login(
    dovecot: DovecotServer,
    mailbox: Mailbox,
    sqlite_store: Store,
    store_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(3, tag="pw"))
    config = mailbox.config()

    result = sync_imap(sqlite_store, config)

    assert result.to_dict()["ingested_count"] == 3
    assert result.to_dict()["auth"] == "password"
    assert "***" in repr(config)
    assert_secret_nowhere(mailbox.password, store_dir, capfd, caplog, config, result.to_dict())


def test_wrong_password_is_refused(
    mailbox: Mailbox,
    sqlite_store: Store,
    store_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + mailbox.password
    config = mailbox.config(password=wrong)

    with pytest.raises(ImapAuthError, match="refused the password") as info:
        sync_imap(sqlite_store, config)

    message = str(info.value)
    assert "b'" not in message and 'b"' not in message
    assert "AUTHENTICATIONFAILED" in message or "failed" in message.lower()
    assert_secret_nowhere(wrong, store_dir, capfd, caplog, config, message, info.value.args)


def test_xoauth2_with_a_good_token(
    dovecot: DovecotServer,
    mailbox: Mailbox,
    sqlite_store: Store,
    store_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(2, tag="oauth"))
    token = mailbox.token()
    config = mailbox.config(auth="xoauth2", password=None, access_token=token)

    result = sync_imap(sqlite_store, config).to_dict()

    assert (result["status"], result["auth"], result["ingested_count"]) == ("ok", "xoauth2", 2)
    assert_secret_nowhere(token, store_dir, capfd, caplog, config, result)


@pytest.mark.parametrize("kind", ["expired", "wrong-key", "other-user", "garbage"])
def test_refused_tokens(
    dovecot: DovecotServer,
    mailbox: Mailbox,
    sqlite_store: Store,
    store_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    kind: str,
):
    caplog.set_level(logging.DEBUG)
    other = new_mailbox(dovecot)
    token = {
        "expired": make_token(mailbox.user, dovecot.oauth_key, time.time() - 60),
        "wrong-key": make_token(mailbox.user, b"another key entirely, 32 bytes!"),
        "other-user": other.token(),
        "garbage": "not-a-jwt-" + "x" * 30,
    }[kind]
    config = mailbox.config(auth="xoauth2", password=None, access_token=token, max_retries=3)

    started = time.monotonic()
    with pytest.raises(ImapAuthError, match="refused the access token") as info:
        sync_imap(sqlite_store, config)

    assert time.monotonic() - started < 5  # an auth failure is not retried
    assert "does not refresh tokens" in str(info.value)
    assert "b'" not in str(info.value)
    assert sqlite_store.count_documents() == 0
    assert_secret_nowhere(token, store_dir, capfd, caplog, config, info.value)
