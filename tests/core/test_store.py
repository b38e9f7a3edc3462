from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import (
    AssetData,
    AssetText,
    DocumentNotFoundError,
    ImapCursor,
    InvalidFilterError,
    ListFilter,
    SourceLocation,
    StorageFullError,
    Store,
    StoreNotFoundError,
    UnsafePathError,
    open_store,
)
from mailatlas_core._docstore import raw_key
from mailatlas_core._errors import DocumentTooLargeError
from mailatlas_core._ids import content_hash, normalize_message_id
from mailatlas_core._query import Plan, fts_query, list_query
from mailatlas_core._sqlite_store import SQLiteStore

from tests.backends import BACKENDS, read_located, shared_spec

from .factory import make_parsed, make_raw


def loc(name: str = "a.eml") -> SourceLocation:
    return SourceLocation(kind="eml", path=f"/mail/{name}")


def test_add_writes_raw_bytes_html_and_row(store: Store) -> None:
    raw = make_raw(1)
    result = store.add(make_parsed(raw, subject="Quarterly numbers"), loc())
    assert result.is_new
    doc = store.get_document(result.document_id)
    assert read_located(doc.raw_path) == raw
    assert doc.body_html_path is not None
    assert read_located(doc.body_html_path) == b"<p>body</p>"
    assert doc.subject == "Quarterly numbers"
    assert doc.metadata["source"] == {"kind": "eml", "path": "/mail/a.eml"}
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()


def test_duplicate_by_message_id_records_new_location(store: Store) -> None:
    first = store.add(make_parsed(make_raw(1)), loc("a.eml"))
    # Same Message-ID, different bytes (e.g. another folder added a Received header).
    other = b"Received: by relay\r\n" + make_raw(1)
    second = store.add(make_parsed(other), loc("b.eml"))
    assert not second.is_new
    assert second.document_id == first.document_id
    doc = store.get_document(first.document_id)
    assert [loc.detail["path"] for loc in doc.locations] == ["/mail/a.eml", "/mail/b.eml"]
    assert read_located(doc.raw_path) == make_raw(1)  # the original is never overwritten
    assert store.count_documents() == 1


def test_duplicate_by_content_hash_without_message_id(store: Store) -> None:
    raw = make_raw(7, with_mid=False)
    a = store.add(make_parsed(raw), loc("x.eml"))
    b = store.add(make_parsed(raw, subject="cleaned differently"), loc("x.eml"))
    assert a.is_new and not b.is_new and a.document_id == b.document_id
    assert store.count_documents() == 1
    assert len(store.get_document(a.document_id).locations) == 1  # same place, recorded once


def test_dedupe_does_not_depend_on_cleaning(store: Store) -> None:
    raw = make_raw(3)
    a = store.add(make_parsed(raw, body="full text with footer"), loc())
    b = store.add(make_parsed(raw, body="full text"), loc())
    assert a.document_id == b.document_id and not b.is_new


def test_known_and_known_message_ids(store: Store) -> None:
    raw = make_raw(2)
    parsed = make_parsed(raw)
    assert store.known(parsed.message_id, raw) is None
    store.add(parsed, loc())
    assert store.known(parsed.message_id, raw) == parsed.id
    assert store.known(None, raw) == parsed.id  # the same bytes, whatever the headers say
    relayed = b"Received: by relay\r\n" + raw  # the same message, another route
    assert store.known(parsed.message_id, relayed) == parsed.id
    assert store.known(parsed.message_id, make_raw(2, body="other")) is None
    assert store.known_message_ids(["msg-2@example.test", "nope@x"]) == {
        "msg-2@example.test": parsed.id
    }


def test_message_id_normalisation() -> None:
    assert normalize_message_id(" <abc@example.com>\r\n ") == "abc@example.com"
    assert normalize_message_id("<abc@exa\r\n mple.com>") == "abc@example.com"
    assert normalize_message_id("abc@example.com") == "abc@example.com"
    assert normalize_message_id("  ") is None
    assert normalize_message_id(None) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_ids_are_stable_across_stores(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ids = []  # a store of each backend, then one of ``backend``: the same ids in all
    for name, kind in (("one", "sqlite"), ("two", backend), ("three", backend)):
        with shared_spec(kind, request, tmp_path / name) as spec, spec.open() as s:
            added = [s.add(make_parsed(make_raw(i)), loc(f"{i}.eml")) for i in range(5)]
            ids.append([a.document_id for a in added])
    assert ids[0] == ids[1] == ids[2]
    assert len(set(ids[0])) == 5


def test_assets_stored_with_hash_and_size(store: Store) -> None:
    data = b"\x89PNG fake image bytes"
    parsed = make_parsed(
        make_raw(4),
        assets=[
            AssetData("inline", "image/png", "logo.png", data, cid="logo@x"),
            AssetData("attachment", "application/pdf", "report.pdf", b"%PDF-1.4"),
        ],
    )
    store.add(parsed, loc())
    doc = store.get_document(parsed.id)
    assert [(a.kind, a.filename, a.ordinal) for a in doc.assets] == [
        ("inline", "logo.png", 0),
        ("attachment", "report.pdf", 1),
    ]
    logo = doc.assets[0]
    assert read_located(logo.file_path) == data
    assert logo.sha256 == hashlib.sha256(data).hexdigest() and logo.size == len(data)
    assert logo.cid == "logo@x"
    assert Path(logo.file_path).parent.name == parsed.id


def test_no_asset_dir_without_assets(sqlite_store: SQLiteStore) -> None:
    parsed = make_parsed(make_raw(5))
    sqlite_store.add(parsed, loc())
    assert not (sqlite_store.workspace.assets_dir / parsed.id).exists()


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "..", "a\\b", "nul\x00.txt", ""])
def test_unsafe_asset_names_are_refused(store: Store, name: str) -> None:
    parsed = make_parsed(make_raw(6), assets=[AssetData("attachment", "text/plain", name, b"x")])
    with pytest.raises(UnsafePathError):
        store.add(parsed, loc())
    assert store.count_documents() == 0
    if isinstance(store, SQLiteStore):  # nothing was written next to the workspace
        assert not (store.workspace.root.parent / "escape.txt").exists()


def test_workspace_symlink_cannot_redirect_writes(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    parsed = make_parsed(make_raw(8), assets=[AssetData("attachment", "text/plain", "a.txt", b"x")])
    (sqlite_store.workspace.assets_dir / parsed.id).symlink_to(outside)
    with pytest.raises(UnsafePathError):
        sqlite_store.workspace.inside("assets", parsed.id, "a.txt")


def test_case_colliding_names_do_not_overwrite(store: Store) -> None:
    parsed = make_parsed(
        make_raw(9),
        assets=[
            AssetData("attachment", "text/plain", "Report.txt", b"one"),
            AssetData("attachment", "text/plain", "report.txt", b"two"),
        ],
    )
    store.add(parsed, loc())
    doc = store.get_document(parsed.id)
    assert sorted(read_located(a.file_path) for a in doc.assets) == [b"one", b"two"]


def test_get_unknown_document(store: Store) -> None:
    with pytest.raises(DocumentNotFoundError, match="no document with id 'nope'"):
        store.get_document("nope")


def test_list_newest_first_with_paging_and_filters(store: Store) -> None:
    for i, day in enumerate(["2024-01-03", "2024-01-01", "2024-01-02"]):
        store.add(
            make_parsed(make_raw(i), subject=f"s{i}", received_at=f"{day}T00:00:00Z"),
            SourceLocation(
                kind="imap",
                host="h",
                port=993,
                username="u",
                folder="INBOX" if i else "Archive",
                uid=i + 1,
                uidvalidity=1,
            ),
        )
    assert [r.subject for r in store.list_documents()] == ["s0", "s2", "s1"]
    assert [r.subject for r in store.list_documents(ListFilter(limit=1, offset=1))] == ["s2"]
    assert [r.subject for r in store.list_documents(ListFilter(since="2024-01-02"))] == ["s0", "s2"]
    assert [r.subject for r in store.list_documents(ListFilter(until="2024-01-02"))] == ["s1"]
    assert [r.subject for r in store.list_documents(ListFilter(folder="Archive"))] == ["s0"]
    assert store.list_documents(ListFilter(source_kind="eml")) == []


def test_full_text_search(store: Store) -> None:
    store.add(make_parsed(make_raw(1), subject="Invoice March", body="pay by friday"), loc("1"))
    store.add(make_parsed(make_raw(2), subject="Lunch", body="pizza or sushi"), loc("2"))
    assert [r.subject for r in store.list_documents(ListFilter(query="sushi"))] == ["Lunch"]
    assert [r.subject for r in store.list_documents(ListFilter(query="invoice"))] == [
        "Invoice March"
    ]
    # Bad syntax is the caller's error, said in one line (issue 12), not an empty list.
    with pytest.raises(InvalidFilterError, match="unclosed quote"):
        store.list_documents(ListFilter(query='bad "query AND ('))
    with pytest.raises(InvalidFilterError, match="cannot read the search 'invoice OR'"):
        store.list_documents(ListFilter(query="invoice OR"))
    assert [r.subject for r in store.list_documents(ListFilter(query="sender"))] != []


def _subjects(store: Store, **kw: object) -> list[str]:
    return sorted(r.subject for r in store.list_documents(ListFilter(**kw)))  # type: ignore[arg-type]


def test_search_syntax_or_prefix_phrase_not(store: Store) -> None:
    store.add(make_parsed(make_raw(1), subject="Invoice March", body="pay by friday"), loc("1"))
    store.add(make_parsed(make_raw(2), subject="Budget", body="the parser budget"), loc("2"))
    store.add(make_parsed(make_raw(3), subject="Lunch", body="pizza-party at e.g. noon"), loc("3"))
    assert _subjects(store, query="invoice OR budget") == ["Budget", "Invoice March"]
    assert _subjects(store, query="pars*") == ["Budget"]
    assert _subjects(store, query='"parser budget"') == ["Budget"]
    assert _subjects(store, query='"budget parser"') == []
    assert _subjects(store, query="budget NOT parser") == []
    assert _subjects(store, query="(invoice OR lunch) friday") == ["Invoice March"]
    assert _subjects(store, query="pizza-party e.g.") == ["Lunch"]  # punctuation is text
    assert _subjects(store, query="invoice or budget") == []  # lower-case 'or' is a word


def test_threads_are_linked_when_stored(store: Store) -> None:
    # The reply arrives first and names only its parent; the parent names the root.
    reply = make_parsed(make_raw(2), in_reply_to="msg-1@example.test")
    parent = make_parsed(
        make_raw(1), references=("root@example.test",), in_reply_to="root@example.test"
    )
    store.add(reply, loc("r"))
    store.add(parent, loc("p"))
    assert store.get_document(reply.id).thread_id == store.get_document(parent.id).thread_id


def test_failures_keep_reason_and_raw_bytes(store: Store) -> None:
    run = store.start_run("ingest", {"paths": ["x"]})
    store.record_failure(loc("bad.eml"), "not an email message", b"\x00\x01junk", run)
    store.record_failure(loc("bad.eml"), "not an email message", b"\x00\x01junk", run)
    store.finish_run(run, "partial", {"failed_count": 1})
    failures = list(store.iter_failures())
    assert len(failures) == 1
    assert failures[0]["reason"] == "not an email message"
    assert read_located(failures[0]["raw_path"]) == b"\x00\x01junk"


def test_cursor_roundtrip_holds_no_secret(store: Store) -> None:
    cursor = ImapCursor(
        host="h",
        port=993,
        username="u",
        folder="INBOX",
        uidvalidity=11,
        last_uid=4812,
        highestmodseq=99,
        uidnext=4813,
    )
    store.save_cursor(cursor)
    got = store.get_cursor("h", 993, "u", "INBOX")
    assert got is not None and (got.uidvalidity, got.last_uid, got.highestmodseq) == (11, 4812, 99)
    cursor.last_uid = 5000
    store.save_cursor(cursor)
    got = store.get_cursor("h", 993, "u", "INBOX")
    assert got is not None and got.last_uid == 5000
    assert store.get_cursor("h", 993, "u", "Other") is None


def test_transaction_rolls_back_rows_together(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add(make_parsed(make_raw(1)), loc())
        store.save_cursor(ImapCursor("h", 993, "u", "INBOX", uidvalidity=1, last_uid=9))
        raise RuntimeError("boom")
    assert store.count_documents() == 0
    assert store.get_cursor("h", 993, "u", "INBOX") is None


def test_read_only_open_of_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="no MailAtlas store"):
        open_store(tmp_path / "missing" / "store.db", tmp_path / "missing" / "ws", create=False)
    assert not (tmp_path / "missing").exists()


def test_read_only_open_does_not_create_workspace(tmp_path: Path) -> None:
    open_store(tmp_path / "s.db", tmp_path / "ws").close()
    import shutil

    shutil.rmtree(tmp_path / "ws")
    s = open_store(tmp_path / "s.db", tmp_path / "ws", create=False)
    assert s.list_documents() == []
    s.close()
    assert not (tmp_path / "ws").exists()


def test_private_permissions_under_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        s = open_store(tmp_path / "home" / "store.db", tmp_path / "home" / "ws")
        parsed = make_parsed(make_raw(1), assets=[AssetData("attachment", "text/plain", "a", b"x")])
        s.add(parsed, loc())
        s.record_failure(loc("bad"), "bad", b"junk")
        db = tmp_path / "home" / "store.db"
        for suffix in ("", "-wal", "-shm"):  # while open: the WAL holds message text too
            assert (Path(f"{db}{suffix}").stat().st_mode & 0o777) == 0o600, suffix
        s.close()
    finally:
        os.umask(old)
    for path in (tmp_path / "home").rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_sqlite_settings(sqlite_store: SQLiteStore) -> None:
    conn = sqlite3.connect(sqlite_store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert sqlite_store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert sqlite_store._conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # memory


def test_show_serialisation_has_every_field_of_record(store: Store) -> None:
    parsed = make_parsed(make_raw(1))
    store.add(parsed, loc())
    d = store.get_document(parsed.id).to_dict()
    for field in (
        "id",
        "source_kind",
        "message_id",
        "thread_id",
        "subject",
        "sender_name",
        "sender_email",
        "author",
        "received_at",
        "published_at",
        "body_text",
        "body_html_path",
        "raw_path",
        "content_hash",
        "metadata",
        "created_at",
    ):
        assert field in d
    json.dumps(d)


def test_common_and_rare_search_paths_agree(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailatlas_core._sqlite_backend as backend

    text = AssetText("ok", "common word in a spreadsheet", 28, False, None, "test")
    for i in range(30):
        day = f"2024-02-{1 + (i * 7) % 28:02d}T00:00:00Z"
        body = "common word" + (" rare" if i % 10 == 0 else "")
        # Every fourth one matches only by its attachment; every fifth, by both.
        body = "other" if i % 4 == 0 else body
        assets = [AssetData("attachment", "text/csv", f"a{i}.csv", b"x", text=text)]
        parsed = make_parsed(
            make_raw(i),
            subject=f"s{i}",
            body=body,
            received_at=day,
            assets=assets if i % 4 == 0 or i % 5 == 0 else None,
        )
        sqlite_store.add(parsed, loc(str(i)))
    pages = [ListFilter(query="common", limit=7, offset=3), ListFilter(query="word", limit=40)]
    plans: dict[str, list[list[tuple[str, Any, Any]]]] = {}
    for plan, threshold, seek_max in (("sort", 5000, 200), ("walk", 5, 0), ("walk_seek", 5, 10**6)):
        monkeypatch.setattr(backend, "COMMON_QUERY_THRESHOLD", threshold)
        monkeypatch.setattr(backend, "SEEK_WALK_MAX", seek_max)
        assert {
            sqlite_store.backend._plan(  # type: ignore[attr-defined]
                fts_query(p.query or ""), p
            )
            for p in pages
        } == {plan}
        plans[plan] = [
            [(r.id, r.matched_in, r.matched_asset_ids) for r in sqlite_store.list_documents(p)]
            for p in pages
        ]
    assert plans["sort"] == plans["walk"] == plans["walk_seek"]
    assert len(plans["sort"][0]) == 7 and len(plans["sort"][1]) == 30
    assert {hit[1] for hit in plans["sort"][1]} == {
        ("body",),
        ("attachment",),
        ("body", "attachment"),
    }
    assert len(sqlite_store.list_documents(ListFilter(query="rare"))) == 1  # 0 and 20 say "other"


def test_a_rejected_add_inside_a_batch_costs_only_itself(store: Store) -> None:
    with store.transaction():
        store.add(make_parsed(make_raw(1)), loc("1"))
        bad = make_parsed(make_raw(2), assets=[AssetData("attachment", "text/plain", "..", b"x")])
        with pytest.raises(UnsafePathError):
            store.add(bad, loc("2"))
        store.add(make_parsed(make_raw(3)), loc("3"))
    assert store.count_documents() == 2
    assert store.known("msg-2@example.test", make_raw(2)) is None


def _fts_is_consistent(store: Store) -> None:
    if not isinstance(store, SQLiteStore):
        return  # PostgreSQL's tsvector is a column of the row: nothing to drift apart
    conn = store._conn
    # FTS5 checks its index against the documents table; raises if they differ.
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
    indexed = conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0]
    assert indexed == store.count_documents()


def test_search_index_follows_commits_and_undone_adds(store: Store) -> None:
    # New documents are indexed in one statement at COMMIT; an add undone by its
    # savepoint must not be indexed, and the adds around it must be.
    with store.transaction():
        kept = store.add(make_parsed(make_raw(1), body="alpha kept"), loc("1"))
        with pytest.raises(RuntimeError), store.transaction():
            store.add(make_parsed(make_raw(2), body="alpha undone"), loc("2"))
            raise RuntimeError("undo this add")
        also = store.add(make_parsed(make_raw(3), body="alpha also"), loc("3"))
    found = {r.id for r in store.list_documents(ListFilter(query="alpha"))}
    assert found == {kept.document_id, also.document_id}
    assert store.list_documents(ListFilter(query="undone")) == []
    _fts_is_consistent(store)

    # A whole batch rolled back leaves nothing behind; the next add is indexed alone.
    with pytest.raises(RuntimeError), store.transaction():
        store.add(make_parsed(make_raw(4), body="beta gone"), loc("4"))
        raise RuntimeError("boom")
    later = store.add(make_parsed(make_raw(5), body="gamma single"), loc("5"))
    assert [r.id for r in store.list_documents(ListFilter(query="gamma"))] == [later.document_id]
    assert store.list_documents(ListFilter(query="beta")) == []
    _fts_is_consistent(store)


def test_someone_elses_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for create in (False, True):
        with pytest.raises(StoreNotFoundError, match="not a MailAtlas store"):
            open_store(other, tmp_path / "ws", create=create)
    assert other.read_bytes() == before
    assert not Path(f"{other}-wal").exists()


def test_empty_or_garbage_file_is_not_a_store_for_readers(tmp_path: Path) -> None:
    empty, garbage = tmp_path / "empty.db", tmp_path / "garbage.db"
    empty.touch()
    garbage.write_bytes(b"this is not sqlite" * 100)
    for path in (empty, garbage):
        with pytest.raises(StoreNotFoundError, match="not a MailAtlas store"):
            open_store(path, tmp_path / "ws", create=False)
    assert empty.read_bytes() == b"" and not (tmp_path / "ws").exists()


def test_a_body_over_sqlites_length_limit_is_a_per_message_error(sqlite_store: SQLiteStore) -> None:
    # SQLITE_TOOBIG (a > 1 GB body at the default limit) was reported as "disk full",
    # which stops a run; it concerns one message only. Here the limit is lowered.
    sqlite_store._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)
    sqlite_store.add(make_parsed(make_raw(1)), loc("1"))
    with pytest.raises(DocumentTooLargeError, match="too large for the database") as caught:
        sqlite_store.add(make_parsed(make_raw(2), body="x" * 200_000), loc("2"))
    assert not isinstance(caught.value, StorageFullError)
    refused = make_raw(2)
    # ...and its raw message is not left behind as an orphan blob.
    assert not sqlite_store.blobs.exists(raw_key(content_hash(refused)))
    sqlite_store.add(make_parsed(make_raw(3)), loc("3"))
    assert sqlite_store.count_documents() == 2
    assert len(list(sqlite_store.blobs.path("raw").iterdir())) == 2


def test_a_long_body_is_stored_and_searched_as_text(store: Store) -> None:
    # SQLite writes a body of 1M characters or more through a blob handle, piece by
    # piece, into a TEXT placeholder of its UTF-8 length (no bound copy of the whole
    # text): what is read back and searched is the same text, whatever the pieces'
    # boundaries cut (two- and four-byte characters across them).
    line = "Grüße aus Köln, ça va? 😀 Ünïcödé\n"
    body = line * (1_100_000 // len(line)) + "zanzibarword at the end"
    body = body[:1_048_572] + " quixotic " + body[1_048_572:]  # across the first piece's end
    added = store.add(make_parsed(make_raw(1), subject="Long", body=body), loc("1"))
    store.add(make_parsed(make_raw(2), subject="Short", body="köln"), loc("2"))
    assert store.get_document(added.document_id).body_text == body
    for word in ("zanzibarword", "quixotic", "Koln"):
        found = [r.subject for r in store.list_documents(ListFilter(query=word))]
        assert sorted(found) == (["Long", "Short"] if word == "Koln" else ["Long"]), word
    if isinstance(store, SQLiteStore):
        row = store._conn.execute(
            "SELECT typeof(body_text), length(CAST(body_text AS BLOB)) FROM documents WHERE id = ?",
            (added.document_id,),
        )
        assert tuple(row.fetchone()) == ("text", len(body.encode()))
    store.delete_document(added.document_id)  # the index's delete sees the same text
    assert [r.subject for r in store.list_documents(ListFilter(query="koln"))] == ["Short"]


def test_a_long_body_with_lone_surrogates_is_stored_scrubbed(sqlite_store: SQLiteStore) -> None:
    # As for a short body: the undecodable code points are replaced, the rest is kept.
    body = "a" * 1_200_000 + "\udcff tail"
    added = sqlite_store.add(make_parsed(make_raw(1), body=body), loc("1"))
    assert sqlite_store.get_document(added.document_id).body_text == "a" * 1_200_000 + "? tail"


def test_a_long_body_over_sqlites_length_limit_is_a_per_message_error(
    sqlite_store: SQLiteStore,
) -> None:
    sqlite_store._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1_500_000)
    with pytest.raises(DocumentTooLargeError, match="too large for the database"):
        sqlite_store.add(make_parsed(make_raw(1), body="é" * 1_000_000), loc("1"))
    added = sqlite_store.add(make_parsed(make_raw(2), body="é" * 700_000), loc("2"))
    assert sqlite_store.get_document(added.document_id).body_text == "é" * 700_000
    assert sqlite_store.count_documents() == 1


def test_a_consumed_document_is_emptied_once_written_and_given_back_on_failure(
    sqlite_store: SQLiteStore,
) -> None:
    store = sqlite_store  # the refusal below lowers SQLite's length limit
    # consume=True (the ingest and sync hand their documents over): the raw bytes, the
    # HTML and each asset's bytes are not held beside the row SQLite builds; what is
    # stored is exact.
    raw = make_raw(1)
    files = [
        AssetData("attachment", "text/plain", "a.txt", b"first part", text=AssetText("ok", "a")),
        AssetData("inline", "image/png", "b.png", b"\x89PNG second", cid="b@x"),
    ]
    parsed = make_parsed(raw, html="<p>one</p>", assets=list(files))
    added = store.add(parsed, loc("1"), consume=True)
    assert (parsed.raw, parsed.body_html) == (b"", None)
    assert [a.data for a in parsed.assets] == [b"", b""]
    assert [a.filename for a in parsed.assets] == ["a.txt", "b.png"]
    assert store.blobs.get(raw_key(content_hash(raw))) == raw
    doc = store.get_document(added.document_id)
    assert doc.body_html_path is not None
    assert Path(doc.body_html_path).read_text() == "<p>one</p>"
    stored = [(a.filename, a.size, a.sha256, Path(a.file_path).read_bytes()) for a in doc.assets]
    assert stored == [(f.filename, f.size, f.sha256, f.data) for f in files]
    assert store.get_asset(doc.assets[0].id).text == AssetText("ok", "a")
    row = store._conn.execute("SELECT raw_size FROM documents WHERE id = ?", (doc.id,))
    assert row.fetchone()[0] == len(raw)
    # A refused add gives the raw bytes back (for the caller's failure record) and
    # leaves no orphan blob.
    store._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)
    refused = make_raw(2)
    big = make_parsed(refused, body="x" * 200_000)
    with pytest.raises(DocumentTooLargeError):
        store.add(big, loc("2"), consume=True)
    assert big.raw == refused
    assert not store.blobs.exists(raw_key(content_hash(refused)))


def _plan_of(store: SQLiteStore, flt: ListFilter, plan: Plan = "sort") -> str:
    sql, params = list_query(flt, plan=plan)
    rows = store._conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(row[3] for row in rows)


def test_a_sender_address_is_answered_from_its_index_newest_first(
    sqlite_store: SQLiteStore,
) -> None:
    # Any case of the address, in date order, from the index: no sort, no full scan.
    plan = _plan_of(sqlite_store, ListFilter(sender="Ada@Example.TEST", limit=20))
    assert "SEARCH d USING INDEX documents_sender (sender_email=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_a_common_search_seeks_each_row_instead_of_listing_every_match(
    sqlite_store: SQLiteStore,
) -> None:
    plan = _plan_of(sqlite_store, ListFilter(query="invoice", limit=20), "walk_seek")
    assert plan.startswith("SCAN d USING INDEX documents_newest"), plan
    assert "LIST SUBQUERY" not in plan and "TEMP B-TREE" not in plan, plan
