"""Two different messages with one Message-ID: both stored, linked, neither lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mailatlas_core import AssetData, SourceLocation, Store, open_store
from mailatlas_core._ids import fingerprint, header_block, headers_hash
from mailatlas_core._migrate import apply_migrations
from mailatlas_core._sqlite_store import SQLiteStore

from tests.backends import read_located

from .factory import make_parsed

MID = "quarterly@bank.example"


def raw_message(
    *, sender: str, subject: str, body: str, date: str = "Mon, 01 Jan 2024 10:00:00 +0000"
) -> bytes:
    return (
        f"Received: from mx.example by mail.example\r\nMessage-ID: <{MID}>\r\n"
        f"From: {sender}\r\nSubject: {subject}\r\nDate: {date}\r\n\r\n{body}\r\n"
    ).encode()


FORGED = raw_message(sender="Mallory <m@evil.example>", subject="Urgent", body="Pay me.")
REAL = raw_message(sender="Bank <news@bank.example>", subject="Q2 report", body="Numbers.")


def at(name: str) -> SourceLocation:
    return SourceLocation(kind="eml", path=f"/mail/{name}")


def test_a_forged_message_id_does_not_swallow_the_real_message(store: Store) -> None:
    forged = store.add(make_parsed(FORGED, body="Pay me."), at("forged.eml"))
    real = store.add(make_parsed(REAL, body="Numbers."), at("real.eml"))

    assert forged.is_new and real.is_new
    assert real.document_id != forged.document_id
    assert store.count_documents() == 2
    first, second = store.get_document(forged.document_id), store.get_document(real.document_id)
    assert read_located(second.raw_path) == REAL and second.body_text == "Numbers."
    assert read_located(first.raw_path) == FORGED  # never overwritten
    assert second.message_id == first.message_id == MID
    # Each location is on its own document; the documents are linked both ways.
    assert [loc.detail["path"] for loc in first.locations] == ["/mail/forged.eml"]
    assert [loc.detail["path"] for loc in second.locations] == ["/mail/real.eml"]
    assert second.metadata["message_id_conflict"] == {
        "message_id": MID,
        "documents": [forged.document_id],
    }
    assert first.metadata["message_id_conflict"] == {
        "message_id": MID,
        "documents": [real.document_id],
    }


def test_copies_of_either_message_stay_duplicates(store: Store) -> None:
    forged = store.add(make_parsed(FORGED), at("forged.eml")).document_id
    real = store.add(make_parsed(REAL), at("real.eml")).document_id
    # Another folder, another relay, LF line ends, different cleaning: the same messages.
    relayed_real = (b"Received: by relay.example\r\nX-Spam: no\r\n" + REAL).replace(b"\r\n", b"\n")
    parsed = make_parsed(relayed_real, body="cleaned otherwise", message_id=MID)
    again = store.add(parsed, at("copy.eml"))
    assert not again.is_new and again.document_id == real
    assert not store.add(make_parsed(FORGED), at("forged-again.eml")).is_new
    assert store.known(MID, relayed_real) == real
    assert store.known(MID, FORGED) == forged
    # A third different message with the same Message-ID is linked to both.
    third_raw = raw_message(sender="Bank <news@bank.example>", subject="Q2 report", body="Other")
    third = store.add(make_parsed(third_raw), at("third.eml")).document_id
    assert store.count_documents() == 3
    assert store.get_document(third).metadata["message_id_conflict"]["documents"] == [
        forged,
        real,
    ]
    assert store.get_document(forged).metadata["message_id_conflict"]["documents"] == [
        real,
        third,
    ]


def test_each_header_and_the_body_tell_messages_apart(store: Store) -> None:
    store.add(make_parsed(REAL), at("real.eml"))
    variants = [
        raw_message(sender="Bank <news@bank.example>", subject="Q2 report", body="Numbers!"),
        raw_message(sender="Bank <other@bank.example>", subject="Q2 report", body="Numbers."),
        raw_message(sender="Bank <news@bank.example>", subject="Q3 report", body="Numbers."),
        raw_message(
            sender="Bank <news@bank.example>",
            subject="Q2 report",
            body="Numbers.",
            date="Tue, 02 Jan 2024 10:00:00 +0000",
        ),
    ]
    for i, raw in enumerate(variants):
        assert store.known(MID, raw) is None
        assert store.add(make_parsed(raw), at(f"v{i}.eml")).is_new
    # Folding and white space of those headers do not make a different message.
    refolded = REAL.replace(b"Subject: Q2 report", b"Subject:   Q2\r\n  report")
    assert store.known(MID, refolded) is not None


def test_the_conflicting_document_has_its_own_assets_and_html(store: Store) -> None:
    store.add(make_parsed(FORGED), at("forged.eml"))
    parsed = make_parsed(
        REAL,
        assets=[AssetData("inline", "image/png", "logo.png", b"real logo")],
        html=f'<img src="../assets/{make_parsed(REAL).id}/logo.png">',
    )
    doc = store.get_document(store.add(parsed, at("real.eml")).document_id)
    assert doc.id != parsed.id
    assert doc.assets[0].file_path.endswith(f"/assets/{doc.id}/logo.png")
    assert read_located(doc.assets[0].file_path) == b"real logo"
    assert doc.body_html_path is not None
    # Stored HTML names its asset by id: this document's own, not the parser's guess.
    assert doc.assets[0].id.startswith(doc.id)
    html = read_located(doc.body_html_path).decode()
    assert html == f'<img src="mailatlas-asset:{doc.assets[0].id}">'


def test_the_probe_matches_headers_and_size_only(store: Store) -> None:
    store.add(make_parsed(FORGED), at("forged.eml"))
    real = store.add(make_parsed(REAL), at("real.eml")).document_id
    head = headers_hash(header_block(REAL))
    assert store.known_copies([(MID, head, len(REAL))]) == {(MID, head, len(REAL)): real}
    assert store.known_copies([(MID, head, len(REAL) + 1)]) == {}
    assert store.known_copies([(MID, headers_hash(b"Subject: other"), len(REAL))]) == {}
    assert store.known_copies([("nope@x", head, len(REAL))]) == {}


def _v5_store_with(db: Path, ws: Path, raw: bytes) -> None:
    """A store as MailAtlas wrote it before fingerprints (schema 5), holding ``raw``."""
    (ws / "raw").mkdir(parents=True)
    (ws / "assets" / "old").mkdir(parents=True)
    (ws / "raw" / "old.eml").write_bytes(raw)
    (ws / "assets" / "old" / "a.pdf").write_bytes(b"%PDF")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    assert apply_migrations(conn, upto=5) == [1, 2, 3, 4, 5]
    conn.execute(
        "INSERT INTO documents (id, source_kind, message_id, subject, body_text, raw_path,"
        " content_hash, created_at) VALUES ('old', 'eml', ?, 'Urgent', 'Pay me.',"
        " 'raw/old.eml', 'h-old', '2020-01-01T00:00:00Z')",
        (MID,),
    )
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')")
    conn.execute(
        "INSERT INTO assets (id, document_id, ordinal, kind, mime_type, file_path, sha256,"
        " filename, size) VALUES ('a', 'old', 0, 'attachment', 'application/pdf',"
        " 'assets/old/a.pdf', 's', 'a.pdf', 4)"
    )
    conn.execute(
        "INSERT INTO locations (document_id, kind, key, path, first_seen_at)"
        " VALUES ('old', 'eml', 'eml:/mail/old.eml', '/mail/old.eml', '2020-01-01T00:00:00Z')"
    )
    conn.close()


def test_a_store_from_before_fingerprints_is_migrated_and_compared(tmp_path: Path) -> None:
    db, ws = tmp_path / "old.db", tmp_path / "ws"
    _v5_store_with(db, ws, FORGED)
    store = open_store(db, ws)
    assert isinstance(store, SQLiteStore)
    try:
        conn = store._conn
        # The table was rebuilt without cascading into assets or locations.
        old = store.get_document("old")
        assert [a.filename for a in old.assets] == ["a.pdf"]
        assert [loc.detail["path"] for loc in old.locations] == ["/mail/old.eml"]
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
        # The old row has no fingerprint: it is taken from its raw file when needed.
        relayed = b"Received: by relay\r\n" + FORGED
        assert store.known(MID, relayed) == "old"
        assert store.known_copies([(MID, headers_hash(header_block(FORGED)), len(FORGED))])
        real = store.add(make_parsed(REAL), at("real.eml"))
        assert real.is_new and store.count_documents() == 2
        assert store.get_document("old").metadata["message_id_conflict"]["documents"] == [
            real.document_id
        ]
    finally:
        store.close()


def test_fingerprint_reads_the_body_in_pieces() -> None:
    body = b"line\r\n" * 400_000 + b"\r\n  \t\r\n"  # 2.4 MB: several 1 MB pieces
    crlf = b"Subject: s\r\n\r\n" + body
    lf = b"Subject: s\n\n" + body.replace(b"\r\n", b"\n")
    assert fingerprint(crlf) == fingerprint(lf)
    assert fingerprint(crlf) != fingerprint(crlf[:-20] + b"x")
