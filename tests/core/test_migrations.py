from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mailatlas_core import ListFilter, MigrationError, SourceLocation, open_store
from mailatlas_core._migrate import LATEST_VERSION, apply_migrations, available_migrations

from .factory import make_parsed, make_raw


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) >= 3
    # Opening an up-to-date store trusts this constant instead of reading the files.
    assert versions[-1] == LATEST_VERSION


def test_store_from_first_migration_upgrades_to_latest(tmp_path: Path) -> None:
    db, ws = tmp_path / "old.db", tmp_path / "ws"
    (ws / "raw").mkdir(parents=True)
    (ws / "assets" / "doc1").mkdir(parents=True)
    (ws / "raw" / "doc1.eml").write_bytes(b"Subject: old\r\n\r\nlegacy body words\r\n")
    (ws / "assets" / "doc1" / "scan.pdf").write_bytes(b"%PDF")
    conn = sqlite3.connect(db, isolation_level=None)
    assert apply_migrations(conn, upto=1) == [1]
    conn.execute(
        "INSERT INTO documents (id, source_kind, subject, body_text, raw_path, content_hash,"
        " created_at, received_at) VALUES ('doc1', 'eml', 'Old subject', 'legacy body words',"
        " 'raw/doc1.eml', 'h1', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')"
    )
    conn.execute(
        "INSERT INTO assets (id, document_id, ordinal, kind, mime_type, file_path, sha256)"
        " VALUES ('a1', 'doc1', 0, 'attachment', 'application/pdf', 'assets/doc1/scan.pdf', 's')"
    )
    conn.close()

    store = open_store(db, ws)
    applied = [r[0] for r in store._conn.execute("SELECT version FROM schema_migrations")]
    assert applied == [m.version for m in available_migrations()]
    # 0002 back-filled the full-text index, 0003 the asset file names.
    assert [r.id for r in store.list_documents(ListFilter(query="legacy"))] == ["doc1"]
    doc = store.get_document("doc1")
    assert doc.assets[0].filename == "scan.pdf"
    # 0004 moved indexing of new documents from a trigger to the store's commit.
    triggers = {
        r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    # ... and 0007 indexes attachment text the same way (deletes by trigger).
    assert triggers == {"documents_fts_ad", "documents_fts_au", "asset_texts_fts_ad"}
    # An asset stored before 0007 has no text reading.
    assert doc.assets[0].text is None
    new = store.add(
        make_parsed(make_raw(7), body="fresh words"), SourceLocation(kind="eml", path="n.eml")
    )
    assert [r.id for r in store.list_documents(ListFilter(query="fresh"))] == [new.document_id]
    assert len(store.list_documents(ListFilter(query="legacy"))) == 1
    store._conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
    store.close()
    # Reopening applies nothing more.
    store = open_store(db, ws)
    assert apply_migrations(store._conn) == []
    store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path / "s.db", tmp_path / "ws").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(MigrationError, match="upgrade MailAtlas"):
        open_store(tmp_path / "s.db", tmp_path / "ws")


def test_0005_makes_the_recipients_of_stored_mail_searchable(tmp_path: Path) -> None:
    db, ws = tmp_path / "v4.db", tmp_path / "ws"
    conn = sqlite3.connect(db, isolation_level=None)
    assert apply_migrations(conn, upto=4) == [1, 2, 3, 4]
    metadata = (
        '{"recipients": {"to": [{"name": "Charles Babbage", "email": "charles@example.test"}],'
        ' "cc": [{"name": "", "email": "ada@example.test"}], "bcc": [], "reply_to": []}}'
    )
    conn.execute(
        "INSERT INTO documents (id, source_kind, subject, body_text, raw_path, content_hash,"
        " created_at, metadata) VALUES ('d1', 'eml', 'Engines', 'gears', 'raw/d1.eml', 'h1',"
        " '2020-01-01T00:00:00Z', ?)",
        (metadata,),
    )
    conn.execute(
        "INSERT INTO documents_fts (rowid, subject, sender_name, sender_email, body_text)"
        " SELECT seq, subject, sender_name, sender_email, body_text FROM documents"
    )
    conn.close()

    store = open_store(db, ws)
    assert store._conn.execute("SELECT recipients FROM documents").fetchone()[0] == (
        "Charles Babbage charles@example.test ada@example.test"
    )
    for query in ("charles@example.test", "Babbage", "ada@example.test", "gears"):
        assert [r.id for r in store.list_documents(ListFilter(query=query))] == ["d1"], query
    assert [r.id for r in store.list_documents(ListFilter(to="charles@example.test"))] == ["d1"]
    assert store.list_documents(ListFilter(cc="charles@example.test")) == []
    store._conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
    store.close()
