"""A document from a parse worker stores the same as one parsed in the storing process,
on every backend.

A worker sends a large metadata as its JSON text alone and a text attachment's text as
its file's bytes (``ParsedDocument.defer_metadata``, ``AssetText.held_as``: issue 11,
memory of a message of many parts); the store writes both as they come. What is read
back (metadata, the recipients searched, each attachment's text and its search) must not
tell the two apart.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from mailatlas_clean import parse_bytes
from mailatlas_core import ListFilter, ParsedDocument, SourceLocation, Store

from tests.clean.test_held_texts import PARTS, _in_worker, _message


def _stored(store: Store, doc: ParsedDocument, path: str) -> tuple[str, tuple[object, ...]]:
    """The document's id, and what is read back of it (but where it was read from)."""
    with store.transaction():
        added = store.add(doc, SourceLocation(kind="eml", path=path), consume=True)
    got = store.get_document(added.document_id)
    texts = [store.get_asset(a.id).text for a in got.assets]
    metadata = dict(got.metadata)
    assert metadata.pop("source")["path"] == path  # type: ignore[typeddict-item]
    recipients = store.list_documents(ListFilter(query="b@example.test"))
    return got.id, (metadata, texts, [a.sha256 for a in got.assets], [r.id for r in recipients])


def test_a_workers_document_stores_the_same_as_one_parsed_here(store: Store) -> None:
    fillers = [(f"part-{i}.txt", f"filler part {i} words\r\n".encode() * 4) for i in range(700)]
    raw = _message([*PARTS, *fillers])
    ahead = _in_worker(raw)
    assert ahead.metadata_deferred  # this many parts: sent as its text
    assert sum(a.text is not None and a.text._source is not None for a in ahead.assets) > 700
    document_id, stored_ahead = _stored(store, ahead, "/ahead.eml")
    assert ahead.metadata_deferred  # stored without being decoded
    hits = store.list_documents(ListFilter(query="naïve"))
    assert [h.id for h in hits] == [document_id] and hits[0].matched_in == ("attachment",)
    assert [h.id for h in store.list_documents(ListFilter(query="filler"))] == [document_id]
    store.delete_document(document_id)
    _, stored_inline = _stored(store, parse_bytes(raw), "/inline.eml")
    assert stored_ahead == stored_inline


@pytest.mark.slow  # about 6 s: 2,000 parts parsed in a worker
def test_a_workers_held_texts_are_decoded_a_row_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storing a worker's document of 2,000 text files: the backend's row inserts decode
    each held text for its row, never all of them at once (PostgreSQL built every row
    first, with its decoded text and search vector, then sent them in one call)."""
    lines = [f"line {i} of some searchable text words here\n" * 60 for i in range(2000)]
    raw = _message([(f"p{i}.txt", text.encode()) for i, text in enumerate(lines)])
    doc = _in_worker(raw)
    assert all(a.text is not None and a.text._source is not None for a in doc.assets)
    size = len(raw)
    del raw, lines
    backend = type(store.backend)  # type: ignore[attr-defined]
    insert = backend.insert_document
    grown: list[int] = []

    def measured(self: object, *args: object) -> object:
        before, _peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        try:
            return insert(self, *args)
        finally:
            grown.append(tracemalloc.get_traced_memory()[1] - before)

    monkeypatch.setattr(backend, "insert_document", measured)
    gc.collect()
    tracemalloc.start()
    try:
        with store.transaction():
            store.add(doc, SourceLocation(kind="eml", path="/m.eml"), consume=True)
    finally:
        tracemalloc.stop()
    assert len(grown) == 1 and grown[0] <= 0.75 * size, f"{grown[0] / size:.2f}x"
