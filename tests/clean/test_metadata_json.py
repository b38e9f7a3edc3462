"""The parse worker serialises a document's metadata; the store writes that text as is.

Issue 15: the storing process spent 4-5 % of its time on ``json.dumps`` of each
document's metadata. The worker now does it (``ParsedDocument.serialise_metadata``) and
the store appends what it adds (``source``, ``message_id_conflict``) to that text. The
stored metadata must be byte for byte what the store wrote before, for every corpus
message, a Message-ID conflict and an mbox envelope.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import sqlite3
from pathlib import Path

import mailatlas_core._docstore as docstore_module
import pytest
from mailatlas_clean import ParseError, ParseJob, ParsePool, ParserConfig, iter_mbox, parse_bytes
from mailatlas_clean.pool._jobs import DEFER_METADATA_ABOVE
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
    monkeypatch.setattr(docstore_module, "dumps", lambda v: serialised.append(v) or dumps(v))
    after = _stored_metadata(store_all(ahead, "ahead"))
    # The storing process serialised no metadata, only the members it appends.
    assert serialised and all(not isinstance(v, dict) or "provenance" not in v for v in serialised)
    assert after == before
    assert any('"message_id_conflict":' in text for _, text in after)
    assert any(envelope in text for _, text in after)


def _many_parts(count: int) -> bytes:
    parts = "".join(
        f"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=p{i}.txt"
        f"\n\npart {i}\n"
        for i in range(count)
    )
    head = "From: a@example.test\nTo: B <b@example.test>\nSubject: many\n"
    mime = "Message-ID: <many@example.test>\nMIME-Version: 1.0\n"
    mime += "Content-Type: multipart/mixed; boundary=b\n\n"
    return (head + mime + parts + "--b--\n").encode()


def test_a_large_metadata_is_sent_as_its_text_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``DEFER_METADATA_ABOVE`` the worker sends the serialised metadata without
    the dicts (three times its size in the storing process); the store writes that text
    without decoding it, and reading ``doc.metadata`` gives the same dict as a parse in
    this process."""
    raw = _many_parts(1000)
    small = _conflict_pair()[0]
    ahead = _in_worker([raw, small])
    inline = parse_bytes(raw)
    assert ahead[0].metadata_deferred and not ahead[1].metadata_deferred
    assert len(ahead[0].metadata_json or "") > DEFER_METADATA_ABOVE
    assert ahead[1].metadata_json == dumps(ahead[1].metadata)  # a usual one: both sent
    decoded: list[str] = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text: decoded.append(text) or real_loads(text))
    texts = []
    for name, doc in (("ahead", ahead[0]), ("inline", inline)):
        store = open_store(tmp_path / f"{name}.db", tmp_path / name)
        with store.transaction():
            store.add(doc, SourceLocation(kind="eml", path="/m.eml"))
        store.close()
        texts.append(_stored_metadata(tmp_path / f"{name}.db"))
    assert ahead[0].metadata_deferred and decoded == []  # stored without decoding it
    assert texts[0] == texts[1]
    assert '"recipients":{"to":[{"name":"B","email":"b@example.test"}]' in texts[0][0][1]
    with sqlite3.connect(tmp_path / "ahead.db") as conn:
        assert conn.execute("SELECT recipients FROM documents").fetchone() == ("B b@example.test",)
    assert ahead[0].metadata == inline.metadata  # read: decoded once, then a plain dict
    assert len(decoded) == 1 and not ahead[0].metadata_deferred
    assert ahead[0] == inline


def test_a_deferred_metadata_reads_pickles_and_copies_as_the_dict() -> None:
    doc = parse_bytes(_many_parts(50))
    expected = copy.deepcopy(doc.metadata)
    assert doc.defer_metadata() and doc.metadata_deferred
    assert doc.recipients == expected["recipients"] and doc.metadata_deferred
    # Pickled (a worker's reply) it stays deferred: the text alone is sent.
    again = pickle.loads(pickle.dumps(doc, protocol=5))
    assert again.metadata_deferred and again.metadata_json == doc.metadata_json
    both = parse_bytes(_many_parts(50))
    both.serialise_metadata()  # what is sent below the size: the text and the dicts
    dicts = len(pickle.dumps(both.metadata, protocol=5))
    assert len(pickle.dumps(doc, protocol=5)) < len(pickle.dumps(both, protocol=5)) - dicts + 300
    assert again.metadata == expected and again.to_dict() == parse_bytes(_many_parts(50)).to_dict()
    assert dataclasses.replace(doc, raw=b"").metadata == expected
    assert doc.metadata == expected and not doc.metadata_deferred
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        doc.nothing  # noqa: B018  (other missing attributes are still missing)
    # Clearing ``metadata_json`` (what a caller that changes ``metadata`` does) does not
    # lose a deferred metadata: it keeps its own copy of the text.
    cleared = parse_bytes(_many_parts(50))
    assert cleared.defer_metadata()
    cleared.metadata_json = None
    assert cleared.recipients == expected["recipients"] and cleared.metadata == expected
    # A metadata with a member the store adds is not deferred: its text is not appended to.
    other = parse_bytes(_many_parts(2))
    other.metadata["source"] = {"kind": "eml"}  # type: ignore[typeddict-item]
    assert not other.defer_metadata() and not other.metadata_deferred
