"""A batch's first messages go to the parser as soon as they are downloaded (issue 15).

A first sync used to hand a batch to its parser worker only after the batch's whole
body FETCH (500 messages) had arrived, so the worker idled through the first download.
Now a batch's first body fetch asks for ``FIRST_FETCH_COUNT`` messages, which are
submitted before the rest is fetched. Checked on the real Dovecot by recording the
order of body fetches and parser submissions; every message is still stored once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from mailatlas_core import Store
from mailatlas_imap import sync_imap
from mailatlas_imap._fetching import FIRST_FETCH_COUNT
from mailatlas_imap._parsing import Parser
from mailatlas_imap._session import Session

from devkit.dovecot import DovecotServer

from .conftest import Mailbox, messages


@pytest.mark.dovecot
def test_the_parser_gets_the_first_messages_before_the_rest_is_downloaded(
    dovecot: DovecotServer,
    mailbox: Mailbox,
    sqlite_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count = FIRST_FETCH_COUNT * 3 + 5
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(count, tag="handoff"))
    events: list[tuple[str, int]] = []
    fetch, submit = Session.fetch, Parser.submit

    def recording_fetch(self: Session, uids: Sequence[int], items: Sequence[bytes], *a: Any) -> Any:
        if b"BODY.PEEK[]" in items:
            events.append(("download", len(uids)))
        return fetch(self, uids, items, *a)

    def recording_submit(self: Parser, items: list[Any]) -> Any:
        events.append(("parse", len(items)))
        return submit(self, items)

    monkeypatch.setattr(Session, "fetch", recording_fetch)
    patched: Callable[..., Any] = recording_submit
    monkeypatch.setattr(Parser, "submit", patched)

    result = sync_imap(sqlite_store, mailbox.config())

    assert result.ingested_count == count
    assert events == [
        ("download", FIRST_FETCH_COUNT),
        ("parse", FIRST_FETCH_COUNT),
        ("download", count - FIRST_FETCH_COUNT),
        ("parse", count - FIRST_FETCH_COUNT),
    ]
    assert sqlite_store.count_documents() == count
