"""The store seam: policy (DocumentStore) over rows (Backend) and bytes (BlobStore)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import ListFilter, StoreError, open_store
from mailatlas_core._backend import Backend, DocumentRow
from mailatlas_core._blobs import BlobStore, LocalBlobStore
from mailatlas_core._docstore import DocumentStore
from mailatlas_core._migrate import apply_migrations
from mailatlas_core._model import SourceLocation
from mailatlas_core._sqlite_backend import SQLiteBackend
from mailatlas_core._sqlite_store import SQLiteStore

from .factory import make_parsed, make_raw


def loc(name: str = "a") -> SourceLocation:
    return SourceLocation(kind="eml", path=f"/mail/{name}.eml")


def test_sqlite_parts_satisfy_the_protocols(tmp_path: Path) -> None:
    backend: Backend = SQLiteBackend(tmp_path / "s.db")
    blobs: BlobStore = LocalBlobStore(tmp_path / "ws")
    store = DocumentStore(backend, blobs)
    try:
        added = store.add(make_parsed(make_raw(1)), loc())
        assert store.get_document(added.document_id).subject == "subject"
    finally:
        store.close()


def test_raw_blobs_are_content_addressed_and_a_retry_writes_no_second(
    sqlite_store: SQLiteStore,
) -> None:
    parsed = make_parsed(make_raw(1))
    with pytest.raises(RuntimeError), sqlite_store.transaction():
        sqlite_store.add(parsed, loc("1"))
        raise RuntimeError("the batch is rolled back after the blob was written")
    assert sqlite_store.count_documents() == 0
    sqlite_store.add(parsed, loc("1"))  # the retry
    sqlite_store.add(parsed, loc("2"))  # a duplicate elsewhere
    raw_dir = sqlite_store.workspace.root / "raw"
    expected = hashlib.sha256(parsed.raw).hexdigest()
    assert [p.name for p in raw_dir.iterdir()] == [f"{expected}.eml"]
    doc = sqlite_store.get_document(parsed.id)
    assert doc.raw_path == str(raw_dir / f"{expected}.eml") and doc.raw_key == f"raw/{expected}.eml"
    assert Path(doc.raw_path).read_bytes() == parsed.raw


def test_the_backend_reports_a_row_that_is_already_there(sqlite_store: SQLiteStore) -> None:
    # What a concurrent writer that lost the race sees: the id of the stored document.
    parsed = make_parsed(make_raw(1))
    first = sqlite_store.add(parsed, loc("1")).document_id
    row = DocumentRow(
        id="another-id",
        source_kind="eml",
        message_id=None,
        thread_id=None,
        subject="",
        sender_name=None,
        sender_email=None,
        author=None,
        received_at=None,
        published_at=None,
        body_text="",
        body_html_path=None,
        raw_path="raw/x.eml",
        content_hash=parsed.content_hash,
        metadata_json="{}",
        created_at="2024-01-01T00:00:00Z",
        in_reply_to=None,
        recipients="",
        headers_hash="h",
        body_hash="b",
        raw_size=1,
    )
    with sqlite_store.transaction():
        assert sqlite_store.backend.insert_document(row, [], loc("2")) == first
        sqlite_store.add(make_parsed(make_raw(2)), loc("3"))  # the transaction stays usable
    assert sqlite_store.count_documents() == 2


def test_documents_of_an_older_layout_are_read_and_deleted(tmp_path: Path) -> None:
    # A store written before raw blobs were content-addressed: raw/<id>.eml.
    db, ws = tmp_path / "old.db", tmp_path / "ws"
    (ws / "raw").mkdir(parents=True)
    (ws / "html").mkdir()
    raw = make_raw(7)
    (ws / "raw" / "old.eml").write_bytes(raw)
    (ws / "html" / "old.html").write_bytes(b"<p>old</p>")
    conn = sqlite3.connect(db, isolation_level=None)
    apply_migrations(conn)
    conn.execute(
        "INSERT INTO documents (id, source_kind, message_id, subject, body_text, raw_path,"
        " body_html_path, content_hash, created_at) VALUES ('old', 'eml', 'msg-7@example.test',"
        " 'Old', 'old body', 'raw/old.eml', 'html/old.html', ?, '2020-01-01T00:00:00Z')",
        (hashlib.sha256(raw).hexdigest(),),
    )
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')")
    conn.close()
    store = open_store(db, ws)
    try:
        doc = store.get_document("old")
        assert doc.raw_path == str(ws / "raw" / "old.eml")
        assert doc.body_html_path == str(ws / "html" / "old.html")
        assert store.known("msg-7@example.test", raw) == "old"  # dedupe by the raw hash
        assert not store.add(make_parsed(raw), loc("again")).is_new
        deleted = store.delete_document("old")
        assert deleted.files_removed == [str(ws / "raw" / "old.eml"), str(ws / "html" / "old.html")]
        assert list((ws / "raw").iterdir()) == []
    finally:
        store.close()


def test_a_nested_block_whose_outer_block_ended_first_touches_nothing(tmp_path: Path) -> None:
    """A Ctrl-C between a nested block's enter and its body (seen on CI: "no such
    savepoint: sp1" printed by the garbage collector) ends the outer block first; closing
    the orphaned nested block later must neither raise nor undo a newer transaction."""
    backend = SQLiteBackend(tmp_path / "s.db")
    blobs = LocalBlobStore(tmp_path / "ws")
    store = DocumentStore(backend, blobs)
    try:
        inner = backend.transaction()
        with pytest.raises(KeyboardInterrupt), backend.transaction():
            inner.__enter__()  # the signal lands before the nested body's try
            raise KeyboardInterrupt
        with backend.transaction():
            added = store.add(make_parsed(make_raw(1)), loc())
            inner.gen.close()  # type: ignore[attr-defined]  # what the collector does
        assert store.get_document(added.document_id).subject == "subject"
        with backend.transaction():  # depth is back to 0: a real BEGIN, not a savepoint
            store.add(make_parsed(make_raw(2)), loc())
        assert backend.count_documents(ListFilter()) == 2
    finally:
        store.close()


@pytest.mark.parametrize(
    "read",
    [
        lambda b, i: b.thread_of(i),
        lambda b, i: b.get_ref(i),
        lambda b, i: b.get_metadata(i),
        lambda b, i: b.set_metadata(i, {}),
        lambda b, i: b.list_documents(ListFilter()),
        lambda b, i: b.get_document(i),
    ],
    ids=["thread_of", "get_ref", "get_metadata", "set_metadata", "list_documents", "get_document"],
)
def test_a_database_failure_in_a_read_is_a_store_error(tmp_path: Path, read: Any) -> None:
    """Every backend call turns a database failure into StoreError (one line at the CLI),
    never a raw sqlite3 error with a traceback."""
    backend = SQLiteBackend(tmp_path / "s.db")
    store = DocumentStore(backend, LocalBlobStore(tmp_path / "ws"))
    added = store.add(make_parsed(make_raw(1)), loc())
    backend._conn.close()  # every query now fails with a sqlite3 error
    with pytest.raises(StoreError) as caught:
        read(backend, added.document_id)
    assert isinstance(caught.value.__cause__, sqlite3.Error)
