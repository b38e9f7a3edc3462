"""A Ctrl-C that lands right after a batch's COMMIT: the run still reports exactly what
it committed (ingest and sync alike, on every store backend), and the signal is not lost.

The SIGINT is sent from inside the store's outermost transaction, right after its
commit returned, so it reaches Python at the very next bytecode: the window that
made an interrupted ingest report fewer documents than the store held.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mailatlas_clean import (
    IngestInterrupted,
    MessageToStore,
    ingest_paths,
    interrupts_deferred,
    parse_bytes,
)
from mailatlas_core import ImapCursor, SourceLocation, Store
from mailatlas_imap import FolderResult
from mailatlas_imap._commit import commit_batch

from tests.core.factory import make_raw


def _interrupt_after_commit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    real = store.transaction
    depth = 0

    @contextmanager
    def transaction() -> Iterator[None]:
        nonlocal depth
        depth += 1
        try:
            with real():
                yield
        finally:
            depth -= 1
        if depth == 0:
            os.kill(os.getpid(), signal.SIGINT)  # COMMIT has returned

    monkeypatch.setattr(store, "transaction", transaction)


def test_an_ingest_counts_the_batch_it_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    files = []
    for i in range(12):
        path = tmp_path / "in" / f"{i:02d}.eml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(make_raw(i))
        files.append(path)
    with monkeypatch.context() as patch, pytest.raises(IngestInterrupted) as caught:
        _interrupt_after_commit(store, patch)
        ingest_paths(store, "eml", files, batch_size=5, workers=0)
    stored = store.count_documents()
    assert stored == 5  # the first batch, committed; then the signal
    assert caught.value.result.ingested_count == stored
    assert len(caught.value.result.refs) == stored


def test_a_sync_batch_counts_what_it_committed(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    messages = []
    for uid in range(1, 4):
        raw = make_raw(uid)
        location = SourceLocation(
            kind="imap", host="h", port=993, folder="INBOX", uid=uid, uidvalidity=7
        )
        messages.append(MessageToStore(location, raw, parsed=parse_bytes(raw)))
    cursor = ImapCursor("h", 993, "u", "INBOX", uidvalidity=7, last_uid=3)
    result = FolderResult("INBOX")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        _interrupt_after_commit(store, patch)
        commit_batch(store, cursor, messages, result, None)
    assert store.count_documents() == 3
    assert result.ingested_count == 3 and len(result.document_refs) == 3
    saved = store.get_cursor("h", 993, "u", "INBOX")
    assert saved is not None and saved.last_uid == 3


def test_a_held_signal_reaches_the_handler_that_was_there() -> None:
    seen: list[str] = []

    def handler(signum: int, frame: object) -> None:
        seen.append("handled")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            seen.append("block went on")
        assert seen == ["block went on", "handled"]
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)
