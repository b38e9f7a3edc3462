"""``MailAtlas.sync_imap`` returns a result whatever the server does (docs/python-api.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mailatlas_cli import MailAtlas
from mailatlas_imap import ImapAuthError, sync_imap

from devkit.dovecot import free_port

from .conftest import Mailbox, messages

pytestmark = pytest.mark.dovecot


def test_a_refused_login_is_a_result_with_status_error(mailbox: Mailbox, store_dir: Path) -> None:
    config = mailbox.config(password="not-the-password", folders=("INBOX", "Archive"))
    with MailAtlas(store_dir / "store.db", store_dir / "workspace") as atlas:
        result = atlas.sync_imap(config)
        assert result.status == "error"
        assert [(f.folder, f.status) for f in result.folders] == [
            ("INBOX", "error"),
            ("Archive", "error"),
        ]
        assert result.to_dict()["error_count"] == 2
        # The lower-level function raises, as documented; the result carries its words.
        with pytest.raises(ImapAuthError) as caught:
            sync_imap(atlas.store(), config)
    assert all(f.error == str(caught.value) for f in result.folders), result


def test_an_unreachable_server_is_a_result_with_status_error(
    mailbox: Mailbox, store_dir: Path
) -> None:
    config = mailbox.config(port=free_port(), max_retries=0)  # nothing listens there
    with MailAtlas(store_dir / "store.db", store_dir / "workspace") as atlas:
        result = atlas.sync_imap(config)
    assert result.status == "error"
    assert result.folders[0].error, result


def test_a_good_sync_returns_its_documents(mailbox: Mailbox, store_dir: Path) -> None:
    mailbox.server.fill_maildir(mailbox.user, "INBOX", messages(3, tag="facade"))
    with MailAtlas(store_dir / "store.db", store_dir / "workspace") as atlas:
        result = atlas.sync_imap(mailbox.config())
        again = atlas.sync_imap(mailbox.config())
    assert (result.status, result.ingested_count, len(result.document_refs)) == ("ok", 3, 3)
    assert (again.status, again.fetched_count) == ("ok", 0)
