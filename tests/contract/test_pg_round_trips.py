"""Round trips to PostgreSQL per stored message, counted on the wire, and what the
deferred savepoints and claims (mailatlas_core._pg_session) must keep.

A round trip ends with the server's ReadyForQuery message (one per simple query, one per
extended-protocol Sync, so one per pipeline): a proxy between the store and the server
counts them.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from mailatlas_core import ListFilter, SourceLocation
from mailatlas_core._blobs import LocalBlobStore
from mailatlas_core._docstore import DocumentStore
from mailatlas_core._errors import DocumentTooLargeError
from mailatlas_core._pg_backend import PostgresBackend

from tests.core.factory import make_parsed, make_raw

pytestmark = pytest.mark.heavy


class ReadyCounter:
    """A loopback proxy to PostgreSQL counting the server's ReadyForQuery ('Z') messages."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        netloc = f"{parts.username}@127.0.0.1:{port}"
        # No TLS or GSS negotiation: the server's stream is typed messages from byte one.
        self.url = urlunsplit(
            (parts.scheme, netloc, parts.path, "sslmode=disable&gssencmode=disable", "")
        )
        self.ready = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                server = socket.create_connection(self.upstream)
                self._sockets += [client, server]
                threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
                threading.Thread(target=self._count, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)

    def _count(self, src: socket.socket, dst: socket.socket) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                buffer += data
                while len(buffer) >= 5:
                    size = int.from_bytes(buffer[1:5], "big")
                    if len(buffer) < 1 + size:
                        break
                    if buffer[0:1] == b"Z":
                        with self._lock:
                            self.ready += 1
                    buffer = buffer[1 + size :]
                dst.sendall(data)  # counted before the client can see it

    def close(self) -> None:
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()


@pytest.fixture
def counter(pg_url: str) -> Iterator[ReadyCounter]:
    proxy = ReadyCounter(pg_url)
    try:
        yield proxy
    finally:
        proxy.close()


def _store(url: str, tmp_path: Path) -> DocumentStore:
    return DocumentStore(PostgresBackend(url), LocalBlobStore(tmp_path / "ws"))


def loc(n: int) -> SourceLocation:
    return SourceLocation(kind="imap", host="h", port=993, username="u", folder="INBOX", uid=n)


def test_a_new_message_in_a_batch_costs_two_round_trips(
    counter: ReadyCounter, tmp_path: Path
) -> None:
    store = _store(counter.url, tmp_path)
    raws = [make_raw(n) for n in range(1, 21)]
    with store.transaction():
        store.add(make_parsed(raws[0]), loc(1))  # the batch's BEGIN, first statements
        before = counter.ready
        for n, raw in enumerate(raws[1:], start=2):
            assert store.add(make_parsed(raw), loc(n)).is_new
        adds = counter.ready - before
    # Each add: [savepoint, claim, lookups] then [document + location + thread chain];
    # releases ride with the next add. Preparing the statements that repeat costs a few
    # more, once per connection.
    assert adds <= 2 * 19 + 4, adds
    before = counter.ready
    found = store.known_many([(None, raw) for raw in raws] + [("new@x", make_raw(99))])
    many = counter.ready - before
    assert many <= 2, many  # the lot in two lookups: raw hashes, then Message-IDs
    assert found == [*(store.known(None, raw) for raw in raws), None]
    assert None not in found[:20]
    assert store.count_documents() == 20


def test_a_copy_costs_two_round_trips(counter: ReadyCounter, tmp_path: Path) -> None:
    store = _store(counter.url, tmp_path)
    raw = make_raw(1)
    store.add(make_parsed(raw), loc(1))
    with store.transaction():
        store.add(make_parsed(raw), loc(2))
        before = counter.ready
        again = store.add(make_parsed(raw), loc(3))
        copies = counter.ready - before
    assert not again.is_new
    assert copies <= 3, copies  # lookups; the location; its ref
    assert len(store.get_document(again.document_id).locations) == 3


def test_a_message_the_server_refuses_costs_only_itself_in_a_batch(
    pg_url: str, tmp_path: Path
) -> None:
    """The savepoint of an add is deferred, yet a statement the server refuses (an index
    row over PostgreSQL's limit) undoes only that add; the batch goes on and commits."""
    store = _store(pg_url, tmp_path)
    huge = secrets.token_hex(20_000)  # a Message-ID no btree index entry can hold
    with store.transaction():
        store.add(make_parsed(make_raw(1), subject="kept"), loc(1))
        with pytest.raises(DocumentTooLargeError):
            store.add(make_parsed(make_raw(2), subject="refused", message_id=huge), loc(2))
        store.add(make_parsed(make_raw(3), subject="kept too"), loc(3))
    assert sorted(r.subject for r in store.list_documents(ListFilter())) == ["kept", "kept too"]


def test_a_deferred_claim_is_held_once_the_lookup_after_it_ran(pg_url: str) -> None:
    writer, other = PostgresBackend(pg_url), PostgresBackend(pg_url)
    taken = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
    with writer.transaction():
        writer.claim("doc-x")
        writer.candidates("0" * 64, "x@example.test", ["x@example.test"])
        with other.transaction():
            assert other._conn.execute(taken, ("doc-x",)).fetchone() == (False,)
    with other.transaction():  # released with the writer's transaction
        assert other._conn.execute(taken, ("doc-x",)).fetchone() == (True,)


def test_an_inner_block_that_sent_nothing_leaves_the_transaction_usable(pg_url: str) -> None:
    backend = PostgresBackend(pg_url)
    with backend.transaction():
        with pytest.raises(RuntimeError), backend.transaction():
            backend.claim("doc-y")  # deferred, never sent: dropped with the block
            raise RuntimeError("before any statement")
        with backend.transaction():
            pass
        assert backend.ids_by_content_hash(["0" * 64]) == {}
    assert backend._conn._pending == []
