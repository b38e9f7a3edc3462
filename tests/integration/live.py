"""Helpers for the tests of a living mailbox: Dovecot with CONDSTORE + QRESYNC, CONDSTORE
alone, or neither; a second IMAP client that changes the mailbox; the flags of every
message on the server and in the store, to compare."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from imapclient import IMAPClient
from mailatlas_core import ListFilter, Store
from mailatlas_core._flags import normalize_flags
from mailatlas_imap._session import Session

from devkit.dovecot import CAPABILITY_CONDSTORE_ONLY, CAPABILITY_NO_CONDSTORE, DovecotServer

from .conftest import Mailbox, _require_dovecot, new_mailbox, user_pool

__all__ = ["MODES", "changer", "doc_at", "live", "server_flags", "servers", "store_flags"]

MODES = {
    "qresync": (None, True, True),  # the shared server: Dovecot's full capability list
    "condstore": (CAPABILITY_CONDSTORE_ONLY, True, False),
    "plain": (CAPABILITY_NO_CONDSTORE, False, False),
}


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, DovecotServer]]:
    _require_dovecot()
    started: dict[str, DovecotServer] = {}
    try:
        for mode in ("condstore", "plain"):
            server = DovecotServer(users=user_pool(20), capability=MODES[mode][0] or "")
            started[mode] = server.start()
        yield started
    finally:
        for server in started.values():
            server.cleanup()


@pytest.fixture(params=list(MODES))
def live(request: pytest.FixtureRequest, dovecot: DovecotServer, servers) -> Mailbox:
    server = dovecot if request.param == "qresync" else servers[request.param]
    box = new_mailbox(server)
    session = Session(box.config())
    session.open()
    try:  # the path under test is the one the session really takes
        assert (session.condstore, session.qresync) == MODES[request.param][1:]
    finally:
        session.close()
    return box


def changer(box: Mailbox) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=box.server.imap_port, ssl=False)
    client.login(box.user, box.password)
    return client


def server_flags(box: Mailbox, folders: tuple[str, ...]) -> dict[tuple[str, int], tuple]:
    """(folder, uid) -> flags of every message, from a fresh FETCH."""
    client = changer(box)
    out = {}
    try:
        for folder in folders:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")  # imapclient 4 fetches lists of ints only
            for uid, item in (client.fetch(uids, ["FLAGS"]) if uids else {}).items():
                out[(folder, uid)] = normalize_flags(item[b"FLAGS"])
    finally:
        client.logout()
    return out


def store_flags(store: Store) -> dict[tuple[str, int], tuple]:
    """(folder, uid) -> flags of every live IMAP location in the store."""
    out = {}
    for ref in store.list_documents(ListFilter(limit=100_000)):
        for loc in store.get_document(ref.id).locations:
            if loc.kind == "imap" and loc.removed_at is None:
                flags = loc.detail["flags"]
                assert flags is not None, "a live location without flags"
                key = (loc.detail["folder"], loc.detail["uid"])
                assert key not in out
                out[key] = tuple(sorted([*flags, *loc.detail["keywords"]]))
    return out


def doc_at(store: Store, folder: str, uid: int) -> str:
    for ref in store.list_documents(ListFilter(limit=100_000)):
        for loc in store.get_document(ref.id).locations:
            if (loc.detail.get("folder"), loc.detail.get("uid")) == (folder, uid):
                return ref.id
    raise AssertionError(f"no document at {folder}/{uid}")
