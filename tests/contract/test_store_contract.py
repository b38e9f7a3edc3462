"""What every store backend does, through the public ``Store`` protocol only.

Each test runs on SQLite + local files and on PostgreSQL + S3 (SeaweedFS); see
conftest.py. Blobs are read back from where the store says they are (a path or an
``s3://`` URL), never from where a test assumes them to be.
"""

from __future__ import annotations

import hashlib

import pytest
from mailatlas_core import (
    AssetData,
    DocumentNotFoundError,
    ImapCursor,
    InvalidFilterError,
    ListFilter,
    SourceLocation,
    Store,
    StoreError,
    StoreNotFoundError,
)
from mailatlas_core._ids import normalize_message_id

from tests.core.factory import make_parsed, make_raw

from .conftest import StoreSpec, located_exists, read_located


def loc(name: str = "a.eml") -> SourceLocation:
    return SourceLocation(kind="eml", path=f"/mail/{name}")


def imap_loc(folder: str, uid: int) -> SourceLocation:
    return SourceLocation(
        kind="imap", host="h", port=993, username="u", folder=folder, uid=uid, uidvalidity=7
    )


def subjects(store: Store, **kw: object) -> list[str]:
    return [r.subject for r in store.list_documents(ListFilter(**kw))]  # type: ignore[arg-type]


# -- documents ---------------------------------------------------------------------------


def test_add_then_get_every_field_and_blob(store: Store) -> None:
    raw = make_raw(1)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    parsed = make_parsed(
        raw,
        subject="Quarterly numbers",
        body="The numbers are in.",
        assets=[AssetData("attachment", "image/png", "chart.png", png)],
    )
    result = store.add(parsed, loc())
    assert result.is_new and result.document_id == parsed.id
    assert result.ref.subject == "Quarterly numbers" and result.ref.source_kind == "eml"
    doc = store.get_document(parsed.id)
    assert (doc.subject, doc.body_text, doc.message_id) == (
        "Quarterly numbers",
        "The numbers are in.",
        "msg-1@example.test",
    )
    assert (doc.sender_email, doc.received_at, doc.published_at) == (
        "sender@example.test",
        "2024-01-01T08:00:00Z",
        "2024-01-01T08:00:00Z",
    )
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()
    assert doc.metadata["source"] == {"kind": "eml", "path": "/mail/a.eml"}
    assert doc.metadata["parser_config"] == {}
    assert read_located(doc.raw_path) == raw
    assert doc.body_html_path is not None
    assert b"body" in read_located(str(doc.body_html_path))
    [asset] = doc.assets
    assert (asset.filename, asset.mime_type, asset.size) == ("chart.png", "image/png", len(png))
    assert asset.sha256 == hashlib.sha256(png).hexdigest()
    assert read_located(asset.file_path) == png
    [where] = doc.locations
    assert where.kind == "eml" and where.detail == {"path": "/mail/a.eml"}


def test_get_unknown_document(store: Store) -> None:
    with pytest.raises(DocumentNotFoundError, match="no document with id 'nope'"):
        store.get_document("nope")


def test_same_bytes_twice_is_one_document_with_two_locations(store: Store) -> None:
    raw = make_raw(3, with_mid=False)
    first = store.add(make_parsed(raw), loc("a.eml"))
    second = store.add(make_parsed(raw), loc("b.eml"))
    assert first.is_new and not second.is_new
    assert second.document_id == first.document_id
    doc = store.get_document(first.document_id)
    assert [w.detail["path"] for w in doc.locations] == ["/mail/a.eml", "/mail/b.eml"]
    assert store.count_documents() == 1
    # the same location again adds nothing
    store.add(make_parsed(raw), loc("b.eml"))
    assert len(store.get_document(first.document_id).locations) == 2


def test_add_locations_records_all_or_none(store: Store) -> None:
    a = store.add(make_parsed(make_raw(1)), loc("a.eml")).document_id
    b = store.add(make_parsed(make_raw(2)), loc("b.eml")).document_id
    store.add_locations([(a, imap_loc("Archive", 1)), (b, imap_loc("Archive", 2))])
    store.add_locations([(a, imap_loc("Archive", 1))])  # seen there again: nothing new
    for doc, uid in ((a, 1), (b, 2)):
        places = [w.detail.get("uid") for w in store.get_document(doc).locations]
        assert places == [None, uid]
    with store.transaction():  # refused inside a batch: only its own block is undone
        with pytest.raises(StoreError):
            store.add_locations([(a, imap_loc("Sent", 3)), ("0" * 24, imap_loc("Sent", 4))])
        store.add_locations([(b, imap_loc("Sent", 5))])
    assert len(store.get_document(a).locations) == 2
    assert [w.detail.get("uid") for w in store.get_document(b).locations] == [None, 2, 5]


def test_copy_with_other_headers_is_the_same_document(store: Store) -> None:
    first = store.add(make_parsed(make_raw(1)), loc("a.eml"))
    relayed = b"Received: by relay\r\n" + make_raw(1)
    second = store.add(make_parsed(relayed), loc("b.eml"))
    assert not second.is_new and second.document_id == first.document_id
    assert read_located(store.get_document(first.document_id).raw_path) == make_raw(1)
    assert store.known("msg-1@example.test", relayed) == first.document_id
    assert store.known(None, make_raw(1)) == first.document_id
    assert store.known("other@example.test", make_raw(99)) is None
    assert store.known_message_ids(["msg-1@example.test", "no@x"]) == {
        "msg-1@example.test": first.document_id
    }


def test_known_many_answers_as_known_does_for_each(store: Store) -> None:
    first = store.add(make_parsed(make_raw(1)), loc("a.eml")).document_id
    second = store.add(make_parsed(make_raw(2, with_mid=False)), loc("b.eml")).document_id
    relayed = b"Received: by relay\r\n" + make_raw(1)
    messages = [
        ("msg-1@example.test", make_raw(1)),  # the same bytes
        ("msg-1@example.test", relayed),  # a copy: same Message-ID and fingerprint
        ("msg-1@example.test", make_raw(1, body="a forgery")),  # same Message-ID only
        (None, make_raw(2, with_mid=False)),  # no Message-ID, the same bytes
        ("msg-3@example.test", make_raw(3)),  # not stored
        ("msg-1@example.test", make_raw(1)),  # asked twice
    ]
    expected = [first, first, None, second, None, first]
    assert store.known_many(messages) == expected
    assert [store.known(mid, raw) for mid, raw in messages] == expected
    assert store.known_many([]) == []


def test_another_message_with_a_stored_message_id_is_kept_and_linked(store: Store) -> None:
    real = store.add(make_parsed(make_raw(1, body="the real one")), loc("real.eml"))
    forged_raw = make_raw(1, body="a forgery")
    forged = store.add(make_parsed(forged_raw), loc("forged.eml"))
    assert forged.is_new and forged.document_id != real.document_id
    assert store.count_documents() == 2
    for one, other in ((real, forged), (forged, real)):
        block = store.get_document(one.document_id).metadata["message_id_conflict"]
        assert block["message_id"] == "msg-1@example.test"
        assert other.document_id in block["documents"]
    assert read_located(store.get_document(forged.document_id).raw_path) == forged_raw


def test_metadata_serialised_ahead_is_stored_as_the_metadata_itself(store: Store) -> None:
    """A parse worker serialises the metadata (issue 15); the store appends what it adds
    (source, a Message-ID conflict) and every backend stores what it stored before."""
    results: dict[tuple[str, str], str] = {}
    for kind, number in (("plain", 1), ("ahead", 2)):
        for body in ("the real one", "a forgery"):  # the second: a Message-ID conflict
            doc = make_parsed(make_raw(number, body=body))
            doc.metadata["links"] = ["https://example.test/ü"]
            if kind == "ahead":
                doc.serialise_metadata()
            added = store.add(doc, loc(f"{kind}-{body}.eml"))
            assert added.is_new
            results[kind, body] = added.document_id

    def without_store_keys(m: object) -> dict[str, object]:
        assert isinstance(m, dict)
        return {k: v for k, v in m.items() if k not in ("source", "message_id_conflict")}

    for body in ("the real one", "a forgery"):
        plain = store.get_document(results["plain", body]).metadata
        ahead = store.get_document(results["ahead", body]).metadata
        assert without_store_keys(plain) == without_store_keys(ahead)
        assert ahead["links"] == ["https://example.test/ü"]
        assert ahead["source"]["path"] == f"/mail/ahead-{body}.eml"  # type: ignore[typeddict-item]
        assert ahead["message_id_conflict"]["message_id"] == "msg-2@example.test"
        assert plain["message_id_conflict"]["message_id"] == "msg-1@example.test"


def test_deleting_one_of_three_conflicting_documents_unlinks_it_everywhere(
    store: Store,
) -> None:
    real = store.add(make_parsed(make_raw(1, body="the real one")), loc("real.eml"))
    forged = store.add(make_parsed(make_raw(1, body="a forgery")), loc("forged.eml"))
    third = store.add(make_parsed(make_raw(1, body="another one")), loc("third.eml"))
    store.delete_document(forged.document_id)
    for one, other in ((real, third), (third, real)):
        block = store.get_document(one.document_id).metadata["message_id_conflict"]
        assert block == {"message_id": "msg-1@example.test", "documents": [other.document_id]}


def test_deleting_the_last_conflicting_document_drops_the_conflict(store: Store) -> None:
    real = store.add(make_parsed(make_raw(1, body="the real one")), loc("real.eml"))
    forged = store.add(make_parsed(make_raw(1, body="a forgery")), loc("forged.eml"))
    store.delete_document(real.document_id)
    assert "message_id_conflict" not in store.get_document(forged.document_id).metadata
    # the real one again: stored beside the forgery, and both linked again
    again = store.add(make_parsed(make_raw(1, body="the real one")), loc("real.eml"))
    assert again.is_new
    block = store.get_document(forged.document_id).metadata["message_id_conflict"]
    assert block["documents"] == [again.document_id]


def test_threads_are_linked_whichever_arrives_first(store: Store) -> None:
    reply = make_parsed(make_raw(2), in_reply_to="msg-1@example.test")
    parent = make_parsed(
        make_raw(1), references=("root@example.test",), in_reply_to="root@example.test"
    )
    store.add(reply, loc("r"))
    store.add(parent, loc("p"))
    thread = store.get_document(parent.id).thread_id
    assert thread and store.get_document(reply.id).thread_id == thread
    assert sorted(subjects(store, thread_id=thread)) == ["subject", "subject"]


def test_delete_removes_rows_and_blobs(store: Store) -> None:
    parsed = make_parsed(
        make_raw(1), assets=[AssetData("attachment", "text/plain", "a.txt", b"attached")]
    )
    store.add(parsed, loc())
    keep = store.add(make_parsed(make_raw(2)), loc("keep.eml"))
    doc = store.get_document(parsed.id)
    blobs = [doc.raw_path, str(doc.body_html_path), doc.assets[0].file_path]
    deleted = store.delete_document(parsed.id)
    assert deleted.id == parsed.id and deleted.bytes_freed > 0
    assert not any(located_exists(b) for b in blobs)
    with pytest.raises(DocumentNotFoundError):
        store.get_document(parsed.id)
    with pytest.raises(DocumentNotFoundError):
        store.delete_document(parsed.id)
    assert [r.id for r in store.list_documents()] == [keep.document_id]
    assert subjects(store, query="subject") == ["subject"]  # gone from the search too


# -- list filters and search -------------------------------------------------------------


def test_list_newest_first_with_paging_and_filters(store: Store) -> None:
    for i, day in enumerate(["2024-01-03", "2024-01-01", "2024-01-02"]):
        store.add(
            make_parsed(make_raw(i), subject=f"s{i}", received_at=f"{day}T00:00:00Z"),
            imap_loc("INBOX" if i else "Archive", i + 1),
        )
    store.add(make_parsed(make_raw(9), subject="undated", received_at=None), loc("u.eml"))
    assert subjects(store) == ["s0", "s2", "s1", "undated"]
    assert subjects(store, limit=1, offset=1) == ["s2"]
    assert subjects(store, since="2024-01-02") == ["s0", "s2"]
    assert subjects(store, until="2024-01-02") == ["s1"]
    assert subjects(store, since="2024-01-02", date_field="received") == ["s0", "s2"]
    assert subjects(store, folder="Archive") == ["s0"]
    assert subjects(store, source_kind="eml") == ["undated"]
    assert subjects(store, message_id="<MSG-2@example.test>".lower()) == ["s2"]
    assert store.count_documents() == 4
    assert store.count_documents(ListFilter(folder="INBOX", limit=1)) == 2
    with pytest.raises(InvalidFilterError):
        store.list_documents(ListFilter(date_field="opened"))


def _person(store: Store, n: int, name: str, email: str, to: str, cc: str) -> None:
    parsed = make_parsed(make_raw(n), subject=f"from {name}")
    parsed.sender_name, parsed.sender_email = name, email
    parsed.metadata["recipients"] = {
        "to": [{"name": "", "email": to}],
        "cc": [{"name": "Carol", "email": cc}],
        "bcc": [],
    }
    store.add(parsed, loc(f"{n}.eml"))


def test_sender_and_recipient_filters(store: Store) -> None:
    _person(store, 1, "Ada Lovelace", "ada@Example.com", "bob@corp.test", "carol@corp.test")
    _person(store, 2, "Grace Hopper", "grace@mail.navy.test", "carol@corp.test", "dan@x.test")
    assert subjects(store, sender="ADA@example.com") == ["from Ada Lovelace"]
    assert subjects(store, sender="example.com") == ["from Ada Lovelace"]
    assert subjects(store, sender="navy.test") == ["from Grace Hopper"]
    assert subjects(store, sender="hopper") == ["from Grace Hopper"]
    assert subjects(store, to="Carol@corp.test") == ["from Grace Hopper"]
    assert subjects(store, cc="carol@corp.test") == ["from Ada Lovelace"]
    assert subjects(store, to="nobody@corp.test") == []
    assert subjects(store, query="carol") != []  # recipients are searched text


def test_search_syntax(store: Store) -> None:
    store.add(make_parsed(make_raw(1), subject="Invoice March", body="pay by friday"), loc("1"))
    store.add(make_parsed(make_raw(2), subject="Budget", body="the parser budget"), loc("2"))
    store.add(make_parsed(make_raw(3), subject="Lunch", body="pizza-party at e.g. noon"), loc("3"))
    store.add(make_parsed(make_raw(4), subject="Café crème", body="Ünïcödé text"), loc("4"))

    def found(query: str) -> list[str]:
        return sorted(subjects(store, query=query))

    assert found("sushi") == []
    assert found("invoice") == ["Invoice March"]
    assert found("INVOICE march") == ["Invoice March"]
    assert found("invoice OR budget") == ["Budget", "Invoice March"]
    assert found("pars*") == ["Budget"]
    assert found('"parser budget"') == ["Budget"]
    assert found('"budget parser"') == []
    assert found("budget NOT parser") == []
    assert found("budget NOT invoice") == ["Budget"]
    assert found("(invoice OR lunch) friday") == ["Invoice March"]
    assert found("pizza-party e.g.") == ["Lunch"]
    assert found("invoice or budget") == []  # lower-case 'or' is a word
    assert found("cafe") == ["Café crème"]  # diacritics folded
    assert found("unicode") == ["Café crème"]
    assert found("sender@example.test budget") == ["Budget"]  # an address is words
    assert store.count_documents(ListFilter(query="invoice OR budget")) == 2
    with pytest.raises(InvalidFilterError, match="unclosed quote"):
        store.list_documents(ListFilter(query='bad "query AND ('))
    with pytest.raises(InvalidFilterError, match="cannot read the search 'invoice OR'"):
        store.list_documents(ListFilter(query="invoice OR"))
    with pytest.raises(InvalidFilterError, match="cannot read the search"):
        store.count_documents(ListFilter(query="(invoice"))


# -- transactions ------------------------------------------------------------------------


def test_transaction_rolls_back_rows_together(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add(make_parsed(make_raw(1)), loc())
        store.save_cursor(ImapCursor("h", 993, "u", "INBOX", uidvalidity=1, last_uid=9))
        raise RuntimeError("boom")
    assert store.count_documents() == 0
    assert store.get_cursor("h", 993, "u", "INBOX") is None
    assert subjects(store, query="subject") == []


def test_a_failed_inner_block_costs_only_itself(store: Store) -> None:
    with store.transaction():
        store.add(make_parsed(make_raw(1), subject="kept"), loc("1"))
        with pytest.raises(RuntimeError), store.transaction():
            store.add(make_parsed(make_raw(2), subject="undone"), loc("2"))
            raise RuntimeError("one bad message")
        store.add(make_parsed(make_raw(3), subject="kept too"), loc("3"))
    assert sorted(subjects(store)) == ["kept", "kept too"]
    assert subjects(store, query="undone") == []


# -- failures, runs, cursors, stats ------------------------------------------------------


def test_failures_keep_reason_raw_bytes_and_run(store: Store) -> None:
    run = store.start_run("ingest", {"paths": ["x"]})
    first = store.record_failure(loc("bad.eml"), "not an email message", b"\x00\x01junk", run)
    again = store.record_failure(loc("bad.eml"), "not an email message", b"\x00\x01junk", run)
    store.record_failure(loc("empty.eml"), "empty file", None, None)
    store.finish_run(run, "partial", {"failed_count": 1})
    assert first == again
    assert store.count_failures() == 2 and store.count_failures(run_id=run) == 1
    [mine] = store.list_failures(run_id=run)
    assert (mine.id, mine.error, mine.run_kind, mine.kind) == (
        first,
        "not an email message",
        "ingest",
        "eml",
    )
    assert mine.source == "eml:/mail/bad.eml"
    assert mine.raw_path is not None and read_located(str(mine.raw_path)) == b"\x00\x01junk"
    assert len(store.list_failures(limit=1)) == 1
    assert len(store.list_failures(limit=5, offset=1)) == 1
    listed = {f["reason"]: f for f in store.iter_failures()}
    assert set(listed) == {"not an email message", "empty file"}
    assert listed["not an email message"]["location"] == {"kind": "eml", "path": "/mail/bad.eml"}
    assert listed["empty file"]["run_id"] is None


def test_cursor_roundtrip(store: Store) -> None:
    cursor = ImapCursor(
        host="h",
        port=993,
        username="u",
        folder="Entwürfe",
        uidvalidity=11,
        last_uid=4812,
        highestmodseq=2**62,
        uidnext=4813,
    )
    store.save_cursor(cursor)
    got = store.get_cursor("h", 993, "u", "Entwürfe")
    assert got is not None
    assert (got.uidvalidity, got.last_uid, got.highestmodseq, got.uidnext) == (
        11,
        4812,
        2**62,
        4813,
    )
    cursor.last_uid = 5000
    store.save_cursor(cursor)
    again = store.get_cursor("h", 993, "u", "Entwürfe")
    assert again is not None and again.last_uid == 5000
    assert again.created_at == got.created_at
    assert store.get_cursor("h", 993, "u", "Other") is None
    assert store.get_cursor("h", 143, "u", "Entwürfe") is None


def test_a_cursor_never_goes_back_within_one_uidvalidity(store: Store) -> None:
    """A worker whose lease expired commits its last batch late: the cursor of the
    worker that took the folder over (further on) stays. A new UIDVALIDITY starts over."""
    store.save_cursor(ImapCursor("h", 993, "u", "INBOX", uidvalidity=7, last_uid=500))
    store.save_cursor(ImapCursor("h", 993, "u", "INBOX", uidvalidity=7, last_uid=200))
    got = store.get_cursor("h", 993, "u", "INBOX")
    assert got is not None and (got.uidvalidity, got.last_uid) == (7, 500)
    store.save_cursor(ImapCursor("h", 993, "u", "INBOX", uidvalidity=8, last_uid=3))
    got = store.get_cursor("h", 993, "u", "INBOX")
    assert got is not None and (got.uidvalidity, got.last_uid) == (8, 3)


def test_stats_count_what_is_stored(store: Store) -> None:
    store.add(
        make_parsed(make_raw(1), assets=[AssetData("attachment", "text/plain", "a.txt", b"123")]),
        imap_loc("INBOX", 1),
    )
    store.add(make_parsed(make_raw(2), received_at="2023-05-01T00:00:00Z"), imap_loc("INBOX", 2))
    store.add(make_parsed(make_raw(2)), imap_loc("Archive", 9))  # a duplicate elsewhere
    run = store.start_run("sync", {})
    store.record_failure(loc("x"), "bad", b"x", run)
    stats = store.stats()
    assert (stats.documents, stats.assets, stats.asset_bytes, stats.locations) == (2, 1, 3, 3)
    assert (stats.failures, stats.runs) == (1, 1)
    assert stats.by_source_kind == {"imap": 2}
    assert stats.by_folder == {"INBOX": 2, "Archive": 1}
    assert (stats.oldest, stats.newest) == ("2023-05-01T00:00:00Z", "2024-01-01T08:00:00Z")
    assert stats.database_bytes > 0 and stats.workspace_bytes > 0


# -- opening -------------------------------------------------------------------------------


def test_a_reader_finds_no_store_and_creates_nothing(spec: StoreSpec) -> None:
    with pytest.raises(StoreNotFoundError):
        spec.open(create=False)
    # a writer may still create it afterwards, and then a reader sees what it wrote
    writer = spec.open()
    writer.add(make_parsed(make_raw(1)), loc())
    writer.close()
    reader = spec.open(create=False)
    try:
        assert reader.count_documents() == 1
        assert reader.get_document(make_parsed(make_raw(1)).id).subject == "subject"
    finally:
        reader.close()


def test_two_store_objects_see_each_others_commits(spec: StoreSpec) -> None:
    one, two = spec.open(), spec.open()
    try:
        added = one.add(make_parsed(make_raw(1)), loc("one.eml"))
        again = two.add(make_parsed(make_raw(1)), loc("two.eml"))
        assert not again.is_new and again.document_id == added.document_id
        assert len(one.get_document(added.document_id).locations) == 2
    finally:
        one.close()
        two.close()


def test_message_id_lookup_is_normalised(store: Store) -> None:
    added = store.add(make_parsed(make_raw(5)), loc())
    assert (
        store.list_documents(ListFilter(message_id=" <msg-5@example.test> "))[0].id
        == added.document_id
    )
    assert normalize_message_id("<MSG-5@example.test>") is not None
