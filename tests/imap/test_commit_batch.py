"""Storing a batch of stored copies re-found after a UIDVALIDITY change (issue 15).

Such a batch is only locations: they are recorded in one go (one savepoint, nothing
read back), and a location the store refuses still fails alone, the rest stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_clean import MessageToStore
from mailatlas_core import ImapCursor, SourceLocation, open_store
from mailatlas_core._sqlite_store import SQLiteStore
from mailatlas_imap import FolderResult
from mailatlas_imap._commit import commit_batch

from tests.core.factory import make_parsed, make_raw


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = open_store(tmp_path / "store.db", tmp_path / "ws")
    assert isinstance(opened, SQLiteStore)
    try:
        yield opened
    finally:
        opened.close()


def _imap(uid: int) -> SourceLocation:
    return SourceLocation(
        kind="imap", host="h", port=993, username="u", folder="Archive", uid=uid, uidvalidity=9
    )


def _stored(store: SQLiteStore, count: int) -> list[str]:
    eml = [SourceLocation(kind="eml", path=f"/mail/{i}.eml") for i in range(count)]
    return [str(store.add(make_parsed(make_raw(i)), eml[i]).document_id) for i in range(count)]


def _imap_uids(store: SQLiteStore, document_id: str) -> list[int | None]:
    return [x.detail["uid"] for x in store.get_document(document_id).locations if x.kind == "imap"]


def test_stored_copies_are_recorded_in_one_savepoint(store: SQLiteStore) -> None:
    ids = _stored(store, 20)
    messages = [MessageToStore(_imap(uid), known_id=i) for uid, i in enumerate(ids, 1)]
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    result = FolderResult("Archive")
    cursor = ImapCursor("h", 993, "u", "Archive", 9, last_uid=20)
    commit_batch(store, cursor, messages, result, None)
    store._conn.set_trace_callback(None)
    assert result.duplicate_count == 20 and result.failed_count == 0
    assert result.arrived_ids == set(ids)
    assert all(_imap_uids(store, i) == [uid] for uid, i in enumerate(ids, 1))
    savepoints = [s for s in statements if s.startswith("SAVEPOINT")]
    assert len(savepoints) <= 2, savepoints  # was one per message
    reads = [s for s in statements if s.startswith("SELECT id, subject")]
    assert reads == []  # no ref is read back for a duplicate


def test_a_refused_location_fails_alone(store: SQLiteStore) -> None:
    ids = _stored(store, 3)
    known = [ids[0], "0" * 24, ids[2]]  # the middle one names no document
    messages = [MessageToStore(_imap(uid), known_id=i) for uid, i in enumerate(known, 1)]
    result = FolderResult("Archive")
    cursor = ImapCursor("h", 993, "u", "Archive", 9, last_uid=3)
    commit_batch(store, cursor, messages, result, None)
    assert (result.duplicate_count, result.failed_count) == (2, 1)
    assert _imap_uids(store, ids[0]) == [1] and _imap_uids(store, ids[2]) == [3]
    failures = store.list_failures()
    assert [f.source for f in failures] == ["imap:u@h:993/Archive;uidvalidity=9;uid=2"]
    saved = store.get_cursor("h", 993, "u", "Archive")
    assert saved is not None and saved.last_uid == 3
