"""The work queue's lease semantics, the same on every backend.

SQLite through the store, PostgreSQL through its backend (the queue methods are the
same on both layers: persistence only). An expired lease is made with a negative lease
length (already over when granted), so no test here waits for a clock. The concurrency
test runs real processes against one database.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import open_store

EXPIRED = -1.0  # a lease that is over the moment it is granted
LONG = 3600.0


def _open(where: str) -> Any:
    """The queue of a database: a PostgreSQL URL or an SQLite file (workspace beside it)."""
    if where.startswith("postgresql://"):
        from mailatlas_core._pg_backend import PostgresBackend

        return PostgresBackend(where)
    return open_store(where, str(Path(where).parent / "workspace"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.heavy)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "store.db")


@pytest.fixture
def store(where: str) -> Iterator[Any]:
    s = _open(where)
    try:
        yield s
    finally:
        s.close()


def test_claims_take_each_free_item_once_in_queue_order(store: Any) -> None:
    assert store.enqueue_work([("a", "INBOX", 2), ("a", "Archive", 2), ("b", "INBOX", 2)]) == 3
    first = store.claim_work("w1", LONG)
    assert first is not None
    assert (first.state, first.owner, first.attempts, first.max_connections) == (
        "leased",
        "w1",
        1,
        2,
    )
    assert first.lease_expires is not None
    claimed = {first.key}
    while (item := store.claim_work("w2", LONG)) is not None:
        assert item.key not in claimed
        claimed.add(item.key)
    assert claimed == {("a", "INBOX"), ("a", "Archive"), ("b", "INBOX")}
    assert [i.state for i in store.list_work()] == ["leased"] * 3


def test_an_accounts_connection_limit_holds(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 1), ("a", "Archive", 1), ("b", "INBOX", 1)])
    one = store.claim_work("w1", LONG)
    two = store.claim_work("w2", LONG)
    assert one is not None and two is not None
    assert {one.account, two.account} == {"a", "b"}
    assert store.claim_work("w3", LONG) is None  # a's second folder waits for a's slot
    held_by_a = one if one.account == "a" else two
    assert store.release_work(held_by_a.account, held_by_a.folder, held_by_a.owner or "", "done")
    three = store.claim_work("w3", LONG)
    assert three is not None and three.account == "a" and three.key != held_by_a.key


def test_an_expired_lease_counts_as_free_and_is_taken_over(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 1), ("a", "Archive", 1)])
    dead = store.claim_work("dead-worker", EXPIRED)
    assert dead is not None
    # The expired lease neither blocks its item nor uses the account's only connection.
    taken = store.claim_work("w2", LONG)
    assert taken is not None and taken.key == dead.key
    assert (taken.owner, taken.attempts) == ("w2", 2)
    assert store.claim_work("w3", LONG) is None  # now the slot is live again
    # The dead worker, back from the dead, owns nothing any more.
    assert store.renew_lease("a", dead.folder, "dead-worker", LONG) is False
    assert store.release_work("a", dead.folder, "dead-worker", "done") is False
    (item,) = [i for i in store.list_work() if i.key == dead.key]
    assert (item.state, item.owner) == ("leased", "w2")


def test_renew_keeps_an_expired_lease_until_another_worker_takes_it(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 1)])
    item = store.claim_work("w1", EXPIRED)
    assert item is not None
    assert store.renew_lease("a", "INBOX", "w1", LONG) is True
    assert store.claim_work("w2", LONG) is None
    (renewed,) = store.list_work()
    assert renewed.lease_expires is not None and item.lease_expires is not None
    assert renewed.lease_expires > item.lease_expires


def test_release_states_and_a_new_pass(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 2), ("a", "Archive", 2), ("b", "INBOX", 2)])
    items = [store.claim_work("w1", LONG) for _ in range(3)]
    assert all(items)
    assert store.release_work("a", "INBOX", "w1", "done", run_id=7)
    assert store.release_work("a", "Archive", "w1", "failed", error="folder gone")
    by_key = {i.key: i for i in store.list_work()}
    assert (by_key["a", "INBOX"].state, by_key["a", "INBOX"].run_id) == ("done", 7)
    assert (by_key["a", "Archive"].state, by_key["a", "Archive"].error) == (
        "failed",
        "folder gone",
    )
    assert by_key["a", "INBOX"].owner is None and by_key["a", "INBOX"].lease_expires is None
    # A new pass: done and failed items wait again; the leased one is left to its worker.
    assert store.enqueue_work([("a", "INBOX", 3), ("a", "Archive", 3), ("b", "INBOX", 3)]) == 2
    by_key = {i.key: i for i in store.list_work()}
    assert by_key["a", "Archive"].state == "pending" and by_key["a", "Archive"].error is None
    assert by_key["a", "Archive"].attempts == 0
    assert (by_key["b", "INBOX"].state, by_key["b", "INBOX"].owner) == ("leased", "w1")
    assert {i.max_connections for i in by_key.values()} == {3}
    # Released back to pending (a worker stopping cleanly): free at once.
    assert store.release_work("b", "INBOX", "w1", "pending")
    again = [store.claim_work("w2", LONG) for _ in range(3)]
    assert {i.key for i in again if i} == set(by_key)


def test_an_item_that_keeps_losing_its_workers_is_given_up(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 1)])
    for attempt in range(1, 4):
        item = store.claim_work(f"w{attempt}", EXPIRED, max_attempts=3)
        assert item is not None and item.attempts == attempt
    assert store.claim_work("w4", LONG, max_attempts=3) is None
    (item,) = store.list_work()
    assert item.state == "failed" and item.owner is None
    assert item.error == "given up: 3 workers took it and stopped without finishing"


def test_claims_only_for_the_accounts_a_worker_serves(store: Any) -> None:
    store.enqueue_work([("a", "INBOX", 1), ("b", "INBOX", 1)])
    item = store.claim_work("w1", LONG, accounts={"b", "c"})
    assert item is not None and item.account == "b"
    assert store.claim_work("w1", LONG, accounts={"b", "c"}) is None
    assert [i.account for i in store.list_work(accounts=["a"])] == ["a"]


def _claim_all(where: str, owner: str, out: Any) -> None:
    s = _open(where)
    got = []
    while (item := s.claim_work(owner, LONG)) is not None:
        got.append(item.key)
    s.close()
    out.put(got)


@pytest.mark.slow
def test_concurrent_claimers_never_share_an_item_or_overrun_a_limit(store: Any, where: str) -> None:
    # 40 accounts x 3 folders, one connection each: with no release, exactly one item
    # per account can ever be leased, whoever races for it.
    store.enqueue_work([(f"acc{a}", f"F{f}", 1) for a in range(40) for f in range(3)])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_claim_all,
            args=(where, f"w{i}", out),
        )
        for i in range(4)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    claimed = [key for got in results for key in got]
    assert len(claimed) == len(set(claimed)) == 40
    assert sorted({account for account, _ in claimed}) == sorted(f"acc{a}" for a in range(40))
    leased = [i for i in store.list_work() if i.state == "leased"]
    assert len(leased) == 40
