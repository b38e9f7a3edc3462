"""Threading (issue 17): JWZ-style threads over Message-ID, In-Reply-To and References.

The pure rule (mailatlas_core._threads) is checked for order independence; the store
is checked for what users see: out-of-order arrival, missing parents, a late message
joining two threads, duplicate Message-IDs, cycles, deletion, and the 0008 backfill.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest
from mailatlas_core import ListFilter, SourceLocation, Store, ThreadNotFoundError, open_store
from mailatlas_core._ids import thread_id_for
from mailatlas_core._migrate import apply_migrations
from mailatlas_core._sqlite_store import SQLiteStore
from mailatlas_core._threads import (
    MAX_CHAIN,
    ThreadMessage,
    build_threads,
    lone_thread_id,
    parent_chain,
)

from tests.backends import BACKENDS, shared_spec

from .factory import make_parsed


def tid(root: str) -> str:
    return thread_id_for(root, (), None, "")


def msg(mid: str | None, *chain: str, date: str = "", doc: str | None = None) -> ThreadMessage:
    return ThreadMessage(doc or f"d-{mid}", mid, tuple(chain), fallback=f"h-{mid}", date=date)


def raw_of(mid: str, refs: tuple[str, ...] = (), irt: str | None = None, n: int = 0) -> bytes:
    head = f"Message-ID: <{mid}>\r\nSubject: s{n}\r\n"
    head += f"Date: Mon, 01 Jan 2024 10:00:0{n % 10} +0000\r\n"
    if refs:
        head += "References: " + " ".join(f"<{r}>" for r in refs) + "\r\n"
    if irt:
        head += f"In-Reply-To: <{irt}>\r\n"
    return (head + f"\r\nbody of {mid} {n}\r\n").encode()


def add(store: Store, mid: str, *refs: str, irt: str | None = None, n: int = 0) -> str:
    parsed = make_parsed(
        raw_of(mid, refs, irt, n),
        references=refs,
        in_reply_to=irt,
        received_at=f"2024-01-01T10:00:{n:02d}Z",
    )
    result = store.add(parsed, SourceLocation(kind="eml", path=f"{mid}-{n}.eml"))
    return result.document_id


def thread_of(store: Store, doc_id: str) -> str | None:
    return store.get_document(doc_id).thread_id


# -- the pure rule ------------------------------------------------------------------------


def test_parent_chain_drops_self_repeats_and_bounds_hostile_headers() -> None:
    assert parent_chain("c", ["a", "b", "a", "c"], "b") == ("a", "b")
    assert parent_chain("c", ["a"], "b") == ("a", "b")  # In-Reply-To not in References
    assert parent_chain("c", [], None) == ()
    long = [f"r{i}" for i in range(10_000)]
    chain = parent_chain("x", long, None)
    assert len(chain) == MAX_CHAIN
    assert chain[0] == "r0" and chain[-1] == "r9999"  # the root and the nearest kept


def test_the_same_messages_in_any_order_give_the_same_threads() -> None:
    messages = [
        msg("a", date="1"),
        msg("b", "a", date="2"),
        msg("c", "a", "b", date="3"),
        msg("d", "x", date="4"),  # x missing: a placeholder root
        msg("e", "a", "x", date="5"),  # conflicting claims about x's parent
        msg("f", "g", date="6"),
        msg("g", "f", date="7"),  # a cycle
        msg(None, "b", date="8", doc="anon-reply"),
        msg(None, date="9", doc="anon-alone"),
    ]
    expected = [t.to_dict() for t in build_threads(messages)]
    for order in itertools.islice(itertools.permutations(messages), 0, None, 997):
        assert [t.to_dict() for t in build_threads(list(order))] == expected


def test_a_missing_root_is_a_placeholder_and_names_the_thread() -> None:
    (thread,) = build_threads([msg("b", "a", date="2"), msg("c", "a", "b", date="3")])
    assert thread.thread_id == tid("a")
    tree = thread.to_dict()["tree"]
    assert tree[0]["message_id"] == "a" and tree[0]["missing"] is True
    assert tree[0]["replies"][0]["message_id"] == "b"
    assert tree[0]["replies"][0]["replies"][0]["documents"][0]["id"] == "d-c"


def test_a_cycle_in_references_is_cut_and_still_one_thread() -> None:
    threads = build_threads([msg("a", "b"), msg("b", "a")])
    assert len(threads) == 1
    assert threads[0].thread_id == tid("a")  # cut above the smallest node
    tree = threads[0].to_dict()["tree"]
    assert [n["message_id"] for n in tree] == ["a"]
    assert tree[0]["replies"][0]["message_id"] == "b"


def test_a_very_deep_thread_is_built_and_nested_only_so_far() -> None:
    ids = [f"m{i:05d}" for i in range(3000)]
    messages = [msg(ids[0])] + [msg(ids[i], ids[i - 1]) for i in range(1, 3000)]
    (thread,) = build_threads(messages)
    out = thread.to_dict()
    depth, node = 0, out["tree"][0]
    while node["replies"] and depth < 100:
        node, depth = node["replies"][0], depth + 1
    assert depth == 65  # 64 levels nest, the rest of the branch is listed flat
    assert len(node["replies"]) == 0
    json.dumps(out)  # no recursion error anywhere
    assert len(thread.parent_of()) == 3000


# -- the store ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_of_order_arrival_gives_the_thread_ids_of_in_order_arrival(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    mails = [("root",), ("r1", "root"), ("r2", "root", "r1"), ("r3", "root")]
    seen = []
    for order in (mails, list(reversed(mails)), [mails[2], mails[0], mails[3], mails[1]]):
        with (
            shared_spec(backend, request, tmp_path / str(len(seen))) as spec,
            spec.open() as store,
        ):
            ids = {m[0]: add(store, m[0], *m[1:]) for m in order}
            seen.append({k: thread_of(store, v) for k, v in ids.items()})
    assert seen[0] == seen[1] == seen[2]
    assert set(seen[0].values()) == {tid("root")}


def test_missing_parents_are_placeholders_and_the_thread_is_kept(store: Store) -> None:
    b = add(store, "b", "a")  # a is never stored
    c = add(store, "c", "a", "b", n=1)
    assert thread_of(store, b) == thread_of(store, c) == tid("a")
    tree = store.get_thread(tid("a")).to_dict()
    assert tree["message_count"] == 2
    assert tree["tree"][0]["missing"] is True
    # When the root arrives it joins the thread (same id: the root was already its name).
    a = add(store, "a", n=2)
    assert thread_of(store, a) == tid("a")
    assert store.get_thread(tid("a")).to_dict()["tree"][0]["missing"] is False


def test_a_late_message_joins_two_threads_and_rewrites_their_ids(store: Store) -> None:
    x1 = add(store, "x1", irt="x0")  # thread x0 (placeholder root)
    y1 = add(store, "y1", n=1)
    y2 = add(store, "y2", "y1", n=2)  # thread y1
    assert thread_of(store, x1) != thread_of(store, y1)
    # x0 arrives, itself a reply to y2: both threads become one, rooted at y1.
    x0 = add(store, "x0", "y1", "y2", n=3)
    merged = {thread_of(store, d) for d in (x1, y1, y2, x0)}
    assert merged == {tid("y1")}
    assert [r.id for r in store.list_documents(_by_thread(tid("x0")))] == []
    assert len(store.list_documents(_by_thread(tid("y1")))) == 4


def test_a_reply_naming_an_older_root_moves_the_root_up(store: Store) -> None:
    b = add(store, "b")
    c = add(store, "c", "b", n=1)
    assert thread_of(store, b) == tid("b")
    d = add(store, "d", "a", "b", "c", n=2)  # reveals that b answered a (not stored)
    assert {thread_of(store, x) for x in (b, c, d)} == {tid("a")}


def test_subjects_alone_never_merge_threads(store: Store) -> None:
    a = add(store, "a")
    b = add(store, "b")  # same subject s0, no references
    assert thread_of(store, a) != thread_of(store, b)


def test_two_messages_with_one_message_id_share_a_node(store: Store) -> None:
    first = add(store, "dup", n=1)
    second = add(store, "dup", n=2)  # a different message claiming the same id
    assert first != second
    reply = add(store, "re", "dup", n=3)
    assert {thread_of(store, d) for d in (first, second, reply)} == {tid("dup")}
    (root,) = store.get_thread(tid("dup")).to_dict()["tree"]
    assert [d["id"] for d in root["documents"]] == [first, second]
    assert root["replies"][0]["message_id"] == "re"


def test_a_references_cycle_is_threaded_without_hanging(store: Store) -> None:
    a = add(store, "a", "b")
    b = add(store, "b", "a", n=1)
    c = add(store, "c", "c", "a", n=2)  # names itself too
    assert {thread_of(store, d) for d in (a, b, c)} == {tid("a")}
    assert store.get_thread(a).thread_id == tid("a")  # a document id finds its thread


def test_deleting_the_link_splits_the_thread_again(store: Store) -> None:
    x1 = add(store, "x1")
    y1 = add(store, "y1", n=1)
    bridge = add(store, "z", "x1", n=2)
    joined = add(store, "y1b", "y1", "z", n=3)  # claims y1 <- z: one thread rooted at x1
    assert {thread_of(store, d) for d in (x1, y1, bridge, joined)} == {tid("x1")}
    store.delete_document(joined)
    assert thread_of(store, x1) == thread_of(store, bridge) == tid("x1")
    assert thread_of(store, y1) == tid("y1")


def test_an_unknown_thread_is_a_not_found_error(store: Store) -> None:
    with pytest.raises(ThreadNotFoundError, match="no thread or document"):
        store.get_thread("nope")


def test_0008_backfills_thread_ids_of_an_existing_store(tmp_path: Path) -> None:
    db = tmp_path / "v7.db"
    conn = sqlite3.connect(db, isolation_level=None)
    assert apply_migrations(conn, upto=7) == [1, 2, 3, 4, 5, 6, 7]
    rows = [  # what 0.1 stored: thread ids from References[0] only, and no merges
        ("d-y2", "y2", ["y1"], "old-1"),
        ("d-x1", "x1", [], "old-2"),
        ("d-x2", "x2", ["x1", "y2"], "old-3"),  # links x1's thread and y2's
        ("d-y1", "y1", ["x2"], "old-4"),  # and a cycle: y1 <- y2 <- x2 <- y1
        ("d-z", None, [], "old-5"),
    ]
    for doc, mid, refs, thread in rows:
        conn.execute(
            "INSERT INTO documents (id, source_kind, message_id, thread_id, raw_path,"
            " content_hash, created_at, metadata) VALUES (?, 'eml', ?, ?, 'raw/x', ?, 't', ?)",
            (doc, mid, thread, f"h-{doc}", json.dumps({"references": refs})),
        )
    conn.close()
    store = open_store(db, tmp_path / "ws")
    assert isinstance(store, SQLiteStore)
    got = {r[0]: r[1] for r in store._conn.execute("SELECT id, thread_id FROM documents")}
    expected = {
        m.document_id: t.thread_id
        for t in build_threads([msg(mid, *refs, doc=doc) for doc, mid, refs, _t in rows if mid])
        for m in t.messages
    }
    assert {k: v for k, v in got.items() if k != "d-z"} == expected
    assert len(set(expected.values())) == 1  # the links made one thread
    assert got["d-z"] == thread_id_for(None, (), None, "h-d-z")
    links = store._conn.execute(
        "SELECT message_id FROM thread_links WHERE document_id = 'd-x2' ORDER BY position"
    ).fetchall()
    assert [r[0] for r in links] == ["x1", "y2"]
    # New mail threads against the backfilled links.
    late = add(store, "late", "y1", n=4)
    assert thread_of(store, late) == got["d-y1"]
    store.close()


def _by_thread(thread_id: str) -> ListFilter:
    return ListFilter(thread_id=thread_id)


def test_a_lone_message_gets_the_thread_id_build_threads_gives_it() -> None:
    """The store's shortcut for a message no stored thread names (issue 15) must agree
    with the full rule on every shape: no ids, own id only, chains with repeats and
    with the message's own id in them, long chains cut to MAX_CHAIN."""
    ids = ["a@x", "b@x", "c@x", "d@x", ""]
    cases = 0
    for mid in (None, "", "m@x", "a@x"):
        for n in range(4):
            for refs in itertools.product(ids, repeat=n):
                for irt in (None, "", "b@x", "m@x"):
                    chain = parent_chain(mid, refs, irt)
                    m = ThreadMessage(document_id="doc", message_id=mid, chain=chain, fallback="f")
                    (alone,) = build_threads([m])
                    assert lone_thread_id(m) == alone.thread_id, (mid, refs, irt)
                    cases += 1
    long_refs = tuple(f"r{i}@x" for i in range(3 * MAX_CHAIN))
    m = ThreadMessage("doc", "m@x", parent_chain("m@x", long_refs, None), "f")
    assert lone_thread_id(m) == build_threads([m])[0].thread_id == tid("r0@x")
    assert cases > 1000
