"""The document events of a watch, told from what the folder syncs report, over a real
SQLite store: a move's two halves paired in one round or across rounds (the server may
show the copy before it expunges the original), removals, flag changes.

The watch itself against Dovecot: tests/integration/test_watch.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_core import ImapCursor, SourceLocation, Store, open_store
from mailatlas_imap import ChangeBatch, FolderResult
from mailatlas_imap._result import pair_moves
from mailatlas_imap._watch_events import Changes

from tests.core.factory import make_parsed, make_raw

HOST, PORT, USER = "imap.example.test", 993, "ada"
AT = "2024-01-01T00:00:00Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "store.db", tmp_path / "ws")
    try:
        yield opened
    finally:
        opened.close()


def imap(folder: str, uid: int, flags: tuple[str, ...] | None = ()) -> SourceLocation:
    return SourceLocation(
        kind="imap",
        host=HOST,
        port=PORT,
        username=USER,
        folder=folder,
        uid=uid,
        uidvalidity=7,
        flags=flags,
    )


def gone(store: Store, folder: str, uid: int) -> FolderResult:
    """A folder sync that found ``uid`` expunged (the store marked, as the sync does)."""
    entry = FolderResult(folder)
    entry.removed_ids = store.mark_removed(ImapCursor(HOST, PORT, USER, folder, 7), [uid])
    return entry


def arrived(store: Store, folder: str, uid: int, doc: str) -> FolderResult:
    """A folder sync that found a stored document at a new ``uid`` (a move's copy)."""
    store.add_location(doc, imap(folder, uid))
    entry = FolderResult(folder)
    entry.arrived_ids.add(doc)
    return entry


def told(events: list) -> list[tuple]:
    return [(e.event, e.folder, e.id, e.subject, e.detail) for e in events]


def test_pair_moves_is_the_rule_sync_counts_by() -> None:
    inbox, archive, other = FolderResult("INBOX"), FolderResult("Archive"), FolderResult("X")
    inbox.removed_ids = ["moved", "deleted", "deleted", "back"]
    inbox.arrived_ids = {"back"}  # left and came back to the same folder: neither
    archive.arrived_ids = {"moved", "copied"}
    moves, removals = pair_moves([inbox, archive, other])
    assert moves == [("moved", "INBOX", "Archive")]
    assert removals == [("deleted", "INBOX"), ("deleted", "INBOX")]  # one per location


def test_both_halves_in_one_round_are_one_move(store: Store) -> None:
    doc = str(store.add(make_parsed(make_raw(1)), imap("INBOX", 1)).document_id)
    changes = Changes(store)
    assert changes.add(gone(store, "INBOX", 1))  # half of a move? the others join in
    assert changes.add(arrived(store, "Archive", 9, doc))
    assert not changes.add(FolderResult("Sent"))  # nothing there: nothing kept
    subject = store.get_document(doc).subject
    assert told(changes.settle(AT)) == [("moved", "Archive", doc, subject, {"from": "INBOX"})]
    assert changes.settle(AT) == []  # told once


def test_a_copy_shown_before_the_expunge_is_still_a_move(store: Store) -> None:
    doc = str(store.add(make_parsed(make_raw(1)), imap("INBOX", 1)).document_id)
    changes = Changes(store)
    changes.add(arrived(store, "Archive", 9, doc))  # the server shows the copy first
    assert changes.settle(AT) == []  # a copy, as far as anyone knows yet
    changes.add(gone(store, "INBOX", 1))  # the original's expunge, a round later
    subject = store.get_document(doc).subject
    assert told(changes.settle(AT)) == [("moved", "Archive", doc, subject, {"from": "INBOX"})]
    # Once paired, the arrival is forgotten: the copy's own removal is a removal.
    changes.add(gone(store, "Archive", 9))
    detail = {"deleted_on_server": True}
    assert told(changes.settle(AT)) == [("removed", "Archive", doc, subject, detail)]


def test_a_removal_says_whether_any_location_is_left(store: Store) -> None:
    kept = str(store.add(make_parsed(make_raw(1)), imap("INBOX", 1)).document_id)
    store.add_location(kept, imap("Archive", 4))  # also in a folder the watch ignores
    lost = str(store.add(make_parsed(make_raw(2)), imap("INBOX", 2)).document_id)
    changes = Changes(store)
    changes.add(gone(store, "INBOX", 1))
    changes.add(gone(store, "INBOX", 2))
    events = {e.id: e for e in changes.settle(AT)}
    assert {e.event for e in events.values()} == {"removed"}
    assert events[kept].detail == {"deleted_on_server": False}
    assert events[lost].detail == {"deleted_on_server": True}
    assert store.get_document(lost).deleted_on_server


def test_a_flag_change_event_carries_the_flags_now(store: Store) -> None:
    doc = str(store.add(make_parsed(make_raw(1)), imap("INBOX", 3, ("\\Seen",))).document_id)
    store.add_location(doc, imap("Archive", 5, ()))
    batch = ChangeBatch("INBOX", flags_changed=[doc, doc])  # one per location: one event
    (event,) = Changes(store).changed(batch, AT)
    assert event.to_dict() == {
        "event": "changed",
        "at": AT,
        "folder": "INBOX",
        "id": doc,
        "subject": store.get_document(doc).subject,
        "flags": ["\\Seen"],
        "keywords": [],
    }
