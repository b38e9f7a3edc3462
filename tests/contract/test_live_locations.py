"""IMAP locations that follow a living mailbox: flags, keywords, MODSEQ, removal.

The same on every backend: SQLite through the store, PostgreSQL through its backend
(the methods are persistence only, the same on both layers). Documents are put in with
each layer's own write (``Store.add`` / ``Backend.insert_document``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import (
    FlagUpdate,
    ImapCursor,
    InvalidFilterError,
    ListFilter,
    SourceLocation,
    open_store,
)

from tests.core.factory import make_parsed, make_raw

HOST, PORT, USER = "imap.example.test", 993, "ada"


class Live:
    """A store or a backend, with one way to add a document and read it back."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)

    def add(self, n: int, loc: SourceLocation) -> str:
        if hasattr(self.target, "insert_document"):
            from tests.contract.test_pg_backend import _row

            row = _row(n)
            assert self.target.insert_document(row, [], loc) is None
            return row.id
        return str(self.target.add(make_parsed(make_raw(n)), loc).document_id)

    def add_location(self, doc: str, loc: SourceLocation) -> None:
        if hasattr(self.target, "insert_document"):
            self.target.insert_location(doc, loc, "2024-01-03T00:00:00Z")
        else:
            self.target.add_location(doc, loc)

    def shown(self, doc: str) -> dict[str, Any]:
        return dict(self.target.get_document(doc).to_dict())

    def ids(self, **kw: Any) -> set[str]:
        return {r.id for r in self.target.list_documents(ListFilter(**kw))}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.heavy)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    if request.param == "postgres":
        from mailatlas_core._pg_backend import PostgresBackend

        target: Any = PostgresBackend(str(request.getfixturevalue("pg_url")))
    else:
        target = open_store(tmp_path / "store.db", tmp_path / "ws")
    try:
        yield Live(target)
    finally:
        target.close()


def imap(
    folder: str,
    uid: int,
    flags: tuple[str, ...] | None = None,
    modseq: int | None = None,
    uidvalidity: int = 7,
) -> SourceLocation:
    return SourceLocation(
        kind="imap",
        host=HOST,
        port=PORT,
        username=USER,
        folder=folder,
        uid=uid,
        uidvalidity=uidvalidity,
        flags=flags,
        modseq=modseq,
    )


def cursor(folder: str = "INBOX", uidvalidity: int = 7) -> ImapCursor:
    return ImapCursor(HOST, PORT, USER, folder, uidvalidity)


def test_flags_stored_at_first_sight_and_shown(store):
    doc = store.add(1, imap("INBOX", 5, ("\\Seen", "$Label1"), 42))
    plain = store.add(2, imap("INBOX", 6))  # flags not asked
    loc = store.shown(doc)["locations"][0]
    assert (loc["flags"], loc["keywords"], loc["modseq"], loc["removed_at"]) == (
        ["\\Seen"],
        ["$Label1"],
        42,
        None,
    )
    assert store.shown(plain)["locations"][0]["flags"] is None
    assert store.imap_flags(cursor(), 1, 100) == {5: ("$Label1", "\\Seen"), 6: None}
    assert store.shown(doc)["deleted_on_server"] is False


def test_update_flags_counts_real_changes_only(store):
    a = store.add(1, imap("INBOX", 1, (), 10))
    store.add(2, imap("INBOX", 2, ("\\Seen",), 11))
    changed = store.update_flags(
        cursor(),
        [
            FlagUpdate(1, ("\\Flagged", "\\Seen"), 20),
            FlagUpdate(2, ("\\Seen",), 21),  # same flags, new MODSEQ: recorded, not a change
            FlagUpdate(99, ("\\Seen",), 22),  # no such location
        ],
    )
    assert changed == [a]
    assert store.imap_flags(cursor(), 1, 2) == {1: ("\\Flagged", "\\Seen"), 2: ("\\Seen",)}
    assert store.shown(a)["locations"][0]["modseq"] == 20
    # Another UIDVALIDITY names other messages: nothing is touched.
    assert store.update_flags(cursor(uidvalidity=8), [FlagUpdate(1, (), 30)]) == []


def test_list_filters_on_live_flags(store):
    both = ("\\Flagged", "\\Seen")
    flagged = store.add(1, imap("INBOX", 1, both))
    unread = store.add(2, imap("INBOX", 2, ("$Work",)))
    unknown = store.add(3, imap("INBOX", 3))
    archived = store.add(4, imap("Archive", 1, ("\\Flagged",)))
    assert store.ids(flagged=True) == {flagged, archived}
    assert store.ids(flagged=True, folder="INBOX") == {flagged}
    assert store.ids(unread=True) == {unread, archived}
    assert store.ids(keyword="$work") == {unread}
    assert store.ids(keyword="$Work", unread=True, flagged=True) == set()
    assert store.count_documents(ListFilter(flagged=True)) == 2
    assert unknown not in store.ids(unread=True)  # not known is not unread
    store.mark_removed(cursor("Archive"), [1])
    assert store.ids(flagged=True) == {flagged}  # a removed location says nothing
    with pytest.raises(InvalidFilterError):
        store.list_documents(ListFilter(keyword="two words"))


def test_listed_documents_carry_their_live_flags_per_folder(store):
    a = store.add(1, imap("INBOX", 1, ("\\Seen", "$Label1")))
    store.add_location(a, imap("Archive", 4, ("\\Flagged",)))
    store.add_location(a, imap("Old", 2, ("\\Seen",)))
    store.mark_removed(cursor("Old"), [2])  # gone from there: not listed
    b = store.add(2, imap("INBOX", 2))  # flags not known: no imap_flags
    expected = {"Archive": ["\\Flagged"], "INBOX": ["$Label1", "\\Seen"]}
    backend = getattr(store.target, "backend", store.target)
    assert backend.live_imap_flags([a, b, "no-such-document"]) == {a: expected}
    if not hasattr(store.target, "insert_document"):  # the store: list shows them
        listed = {r.id: r.to_dict() for r in store.list_documents(ListFilter())}
        assert listed[a]["imap_flags"] == expected
        assert "imap_flags" not in listed[b]


def test_removed_locations_and_deleted_on_server(store):
    both = store.add(1, imap("INBOX", 1, ()))
    store.add_location(both, imap("Archive", 4, ()))
    only = store.add(2, imap("INBOX", 2, ()))
    assert store.count_imap_locations(cursor(), 2) == 2

    assert sorted(store.mark_removed(cursor(), [1, 2, 3])) == sorted([both, only])
    assert store.mark_removed(cursor(), [1]) == []  # already removed
    assert store.count_imap_locations(cursor(), 2) == 0
    shown = store.shown(only)
    assert shown["deleted_on_server"] is True and shown["locations"][0]["removed_at"]
    assert store.shown(both)["deleted_on_server"] is False
    assert store.deleted_on_server(HOST, PORT, USER) == [only]
    assert store.deleted_on_server(HOST, PORT, "someone-else") == []
    # Seen again at the same place (a rerun after a crash): live again.
    store.add_location(only, imap("INBOX", 2, ("\\Seen",)))
    assert store.deleted_on_server(HOST, PORT, USER) == []


def test_retire_uidvalidity(store):
    old = store.add(1, imap("INBOX", 1, (), uidvalidity=7))
    store.add(2, imap("Archive", 1, (), uidvalidity=7))
    assert store.retire_uidvalidity(cursor(uidvalidity=9)) == [old]
    assert store.deleted_on_server(HOST, PORT, USER) == [old]
    store.add_location(old, imap("INBOX", 3, (), uidvalidity=9))
    assert store.deleted_on_server(HOST, PORT, USER) == []
