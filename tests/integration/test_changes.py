"""A store that keeps up with a living mailbox (issue 16), against a real Dovecot.

A second IMAP client (imapclient) changes the mailbox the way a person's mail program
would: sets and clears flags, adds a keyword, expunges, MOVEs between folders. After
each sync, every live location's flags in the store must equal a fresh FETCH of the
server, with CONDSTORE + QRESYNC, with CONDSTORE alone, and with neither (the bounded
full comparison).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mailatlas_core import DocumentNotFoundError, ListFilter, Store
from mailatlas_imap import sync_imap

from tests.backends import located_exists

from .conftest import Mailbox, message
from .live import changer, doc_at, live, server_flags, servers, store_flags

__all__ = ["live", "servers"]  # fixtures

pytestmark = pytest.mark.dovecot


def test_flags_expunges_and_moves_follow_the_server(live: Mailbox, store: Store, tmp_path: Path):
    folders = ("INBOX", "Archive")
    server = live.server
    pw = live.password  # APPEND keeps the order: UIDs 1..8, then 9 (read)
    server.append(live.user, "INBOX", [message(i, tag="live") for i in range(8)], password=pw)
    server.append(live.user, "INBOX", [message(8, tag="live")], flags="\\Seen", password=pw)
    server.append(live.user, "Archive", [message(20, tag="live")], password=pw)
    config = live.config(folders=folders)

    first = sync_imap(store, config).to_dict()
    assert (first["status"], first["ingested_count"]) == ("ok", 10)
    assert store_flags(store) == server_flags(live, folders)  # stored at first sight
    assert [f["flag_change_count"] for f in first["folders"]] == [0, 0]
    expunged, moved = doc_at(store, "INBOX", 5), doc_at(store, "INBOX", 6)

    client = changer(live)
    client.select_folder("INBOX")
    client.add_flags([1, 2], [b"\\Flagged"])
    client.remove_flags([9], [b"\\Seen"])
    client.add_flags([3], [b"$Label1"])
    client.add_flags([4], [b"\\Seen", b"\\Answered"])
    client.add_flags([5], [b"\\Deleted"])
    client.uid_expunge([5])
    client.move([6], "Archive")
    client.logout()

    second = sync_imap(store, config).to_dict()
    inbox, archive = second["folders"]
    assert second["status"] == "ok"
    assert store_flags(store) == server_flags(live, folders)
    assert (inbox["flag_change_count"], inbox["removed_count"], inbox["moved_count"]) == (5, 1, 0)
    assert (archive["flag_change_count"], archive["removed_count"], archive["moved_count"]) == (
        0,
        0,
        1,
    )
    assert (second["ingested_count"], inbox["downloaded_count"]) == (0, 0)
    assert store.count_documents() == 10  # the move made no second document
    gone = store.get_document(expunged).to_dict()
    assert gone["deleted_on_server"] is True and gone["locations"][0]["removed_at"]
    went = store.get_document(moved).to_dict()
    assert went["deleted_on_server"] is False
    assert [(loc["folder"], loc["removed_at"] is None) for loc in went["locations"]] == [
        ("INBOX", False),
        ("Archive", True),
    ]
    assert {r.id for r in store.list_documents(ListFilter(flagged=True))} == {
        doc_at(store, "INBOX", 1),
        doc_at(store, "INBOX", 2),
    }
    assert [r.id for r in store.list_documents(ListFilter(keyword="$label1"))] == [
        doc_at(store, "INBOX", 3)
    ]
    unread = {r.id for r in store.list_documents(ListFilter(unread=True))}
    assert doc_at(store, "INBOX", 9) in unread

    third = sync_imap(store, config).to_dict()  # nothing changed: nothing applied
    assert [f["flag_change_count"] + f["removed_count"] for f in third["folders"]] == [0, 0]
    assert store_flags(store) == server_flags(live, folders)

    raw_path = gone["raw_path"]
    assert located_exists(raw_path)
    pruned = sync_imap(store, live.config(folders=folders, prune=True)).to_dict()
    assert (pruned["pruned_count"], pruned["pruned"]) == (1, [expunged])
    with pytest.raises(DocumentNotFoundError):
        store.get_document(expunged)
    assert not located_exists(raw_path)
    assert store.count_documents() == 9
    assert store_flags(store) == server_flags(live, folders)
