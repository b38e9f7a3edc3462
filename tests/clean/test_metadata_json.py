"""The parse worker serialises a document's metadata; the store writes that text as is.

Issue 15: the storing process spent 4-5 % of its time on ``json.dumps`` of each
document's metadata. The worker now does it (``ParsedDocument.serialise_metadata``) and
the store appends what it adds (``source``, ``message_id_conflict``) to that text. The
stored metadata must be byte for byte what the store wrote before, for every corpus
message, a Message-ID conflict and an mbox envelope.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mailatlas_core._rows as rows_module
import pytest
from mailatlas_clean import ParseError, ParseJob, ParsePool, ParserConfig, iter_mbox, parse_bytes
from mailatlas_clean.pool._jobs import METADATA_JSON_MAX
from mailatlas_core import ParsedDocument, SourceLocation, open_store
from mailatlas_core._json import dumps

from tests.conftest import corpus_files

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _corpus_messages() -> list[bytes]:
    raws: list[bytes] = []
    for path in corpus_files():
        if path.suffix == ".mbox":
            raws.extend(m.raw for m in iter_mbox(path))
        elif path.suffix == ".eml":
            raws.append(path.read_bytes())
    return raws


def _conflict_pair() -> list[bytes]:
    head = "Message-ID: <same@example.test>\r\nFrom: A <a@example.test>\r\nSubject: s\r\n\r\n"
    return [(head + "the real one\r\n").encode(), (head + "a forgery\r\n").encode()]


def _in_worker(raws: list[bytes]) -> list[ParsedDocument]:
    """Each message parsed by a worker process (never by this one)."""
    jobs = [ParseJob(i, raw) for i, raw in enumerate(raws)]
    with ParsePool(ParserConfig(), workers=1, chunk_size=len(jobs)) as pool:
        batch = pool.submit(jobs)
        return [o for _, o in pool.results(batch) if isinstance(o, ParsedDocument)]


def test_the_worker_sends_the_metadata_as_the_store_writes_it(corpus_dir: Path) -> None:
    docs = _in_worker(_corpus_messages())
    assert len(docs) > 400
    for doc in docs:
        assert doc.metadata_json == dumps(doc.metadata), doc.id
    # Parsed in this process: nothing serialised ahead, the store does it.
    assert parse_bytes(_conflict_pair()[0]).metadata_json is None


def _inline(raw: bytes) -> ParsedDocument | None:
    try:
        return parse_bytes(raw)
    except ParseError:
        return None


def _stored_metadata(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, metadata FROM documents ORDER BY seq").fetchall()


def test_stored_metadata_is_the_same_text_as_before(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raws = [*_corpus_messages(), *_conflict_pair()]
    ahead = _in_worker(raws)
    inline = [d for d in map(_inline, raws) if d is not None]
    assert [d.id for d in ahead] == [d.id for d in inline]
    envelope = "From someone@example.test Mon Jan  1 00:00:00 2024"
    for doc in (ahead[0], inline[0]):  # an mbox envelope travels in the metadata
        doc.metadata["envelope"] = envelope
    ahead[0].serialise_metadata()

    def store_all(docs: list[ParsedDocument], name: str) -> Path:
        store = open_store(tmp_path / f"{name}.db", tmp_path / name)
        with store.transaction():
            for i, doc in enumerate(docs):
                store.add(doc, SourceLocation(kind="mbox", path="/in.mbox", offset=i))
        store.close()
        return tmp_path / f"{name}.db"

    before = _stored_metadata(store_all(inline, "inline"))
    serialised: list[object] = []
    monkeypatch.setattr(rows_module, "dumps", lambda v: serialised.append(v) or dumps(v))
    after = _stored_metadata(store_all(ahead, "ahead"))
    assert serialised == []  # the storing process serialised no metadata
    assert after == before
    assert any('"message_id_conflict":' in text for _, text in after)
    assert any(envelope in text for _, text in after)


def test_a_large_metadata_is_left_to_the_store(tmp_path: Path) -> None:
    """Above ``METADATA_JSON_MAX`` the worker sends no serialised copy beside the dicts
    (two copies at once in the storing process); the store serialises them itself, to
    the same text."""
    parts = "".join(
        f"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=p{i}.txt"
        f"\n\npart {i}\n"
        for i in range(3000)
    )
    head = "From: a@example.test\nSubject: many\nMessage-ID: <many@example.test>\n"
    mime = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
    raw = (head + mime + parts + "--b--\n").encode()
    small = _conflict_pair()[0]
    ahead = _in_worker([raw, small])
    assert len(dumps(ahead[0].metadata)) > METADATA_JSON_MAX
    assert ahead[0].metadata_json is None
    assert ahead[1].metadata_json == dumps(ahead[1].metadata)  # a usual one still is
    texts = []
    for name, doc in (("ahead", ahead[0]), ("inline", parse_bytes(raw))):
        store = open_store(tmp_path / f"{name}.db", tmp_path / name)
        with store.transaction():
            store.add(doc, SourceLocation(kind="eml", path="/m.eml"))
        store.close()
        texts.append(_stored_metadata(tmp_path / f"{name}.db"))
    assert texts[0] == texts[1]
