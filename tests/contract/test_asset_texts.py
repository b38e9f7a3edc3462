"""Attachment text, the same on every backend: kept with its asset, summarised with the
document, returned whole by ``get_asset``, searched by ``--query`` with each hit saying
whether the message or an attachment matched, and gone with its document.

SQLite through the store (``add``), PostgreSQL through its backend (``insert_document``):
the reads are the same methods on both layers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import (
    AssetData,
    AssetText,
    DocumentNotFoundError,
    ListFilter,
    SourceLocation,
    open_store,
)
from mailatlas_core._backend import AssetRow

from tests.contract.test_pg_backend import _row
from tests.core.factory import make_parsed, make_raw

LOC = SourceLocation(kind="eml", path="/mail/a.eml")
PDF = AssetText("ok", "Invoice for the zebra crossing", 30, False, None, "pypdf 7")
BROKEN = AssetText("failed", None, 0, False, "the PDF could not be read (x)", "pypdf 7")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.heavy)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "postgres":
        from mailatlas_core._pg_backend import PostgresBackend

        s: Any = PostgresBackend(str(request.getfixturevalue("pg_url")))
    else:
        s = open_store(tmp_path / "store.db", tmp_path / "workspace")
    try:
        yield s
    finally:
        s.close()


def _put(store: Any, n: int, body: str, texts: list[AssetText | None]) -> str:
    """Store document ``n`` with one PDF asset per reading; returns its id."""
    if hasattr(store, "insert_document"):
        doc_id = f"doc-{n}"
        rows = [
            AssetRow(f"{doc_id}-{i:04d}", doc_id, i, "attachment", "application/pdf",
                     f"assets/{doc_id}/f{i}.pdf", None, "0" * 64, f"f{i}.pdf", 3, text)
            for i, text in enumerate(texts)
        ]  # fmt: skip
        with store.transaction():
            assert store.insert_document(_row(n, body_text=body), rows, LOC) is None
        return doc_id
    assets = [
        AssetData("attachment", "application/pdf", f"f{i}.pdf", b"pdf", text=text)
        for i, text in enumerate(texts)
    ]
    parsed = make_parsed(make_raw(n, body=body), body=body, assets=assets)
    return str(store.add(parsed, LOC).document_id)


def test_text_is_kept_summarised_and_searched(store: Any) -> None:
    body_hit = _put(store, 1, "a zebra in the body", [])
    pdf_hit = _put(store, 2, "nothing here", [PDF, BROKEN, None])
    both = _put(store, 3, "zebra again", [PDF])
    _put(store, 4, "unrelated", [AssetText("unsupported")])

    doc = store.get_document(pdf_hit)
    assert [a.text for a in doc.assets] == [PDF.summary(), BROKEN, None]
    full = store.get_asset(f"{pdf_hit}-0000")
    assert full.text == PDF and full.filename == "f0.pdf"
    assert store.get_asset(f"{pdf_hit}-0002").text is None
    with pytest.raises(DocumentNotFoundError):
        store.get_asset("no-such-asset")

    hits = {r.id: r for r in store.list_documents(ListFilter(query="zebra"))}
    assert set(hits) == {body_hit, pdf_hit, both}
    assert (hits[body_hit].matched_in, hits[body_hit].matched_asset_ids) == (("body",), ())
    assert (hits[pdf_hit].matched_in, hits[pdf_hit].matched_asset_ids) == (
        ("attachment",),
        (f"{pdf_hit}-0000",),
    )
    assert hits[both].matched_in == ("body", "attachment")
    assert store.count_documents(ListFilter(query='"zebra crossing"')) == 2
    assert [r.matched_in for r in store.list_documents(ListFilter())] == [None] * 4

    store.delete_document(pdf_hit)
    assert {r.id for r in store.list_documents(ListFilter(query="crossing"))} == {both}
    with pytest.raises(DocumentNotFoundError):
        store.get_asset(f"{pdf_hit}-0000")


def test_assets_without_text_get_one_once(store: Any) -> None:
    doc_id = _put(store, 5, "old mail", [None, PDF, None])
    missing = store.assets_without_text(10)
    assert [a.id for a in missing] == [f"{doc_id}-0000", f"{doc_id}-0002"]
    store.save_asset_text(f"{doc_id}-0000", AssetText("ok", "late zebra", 10))
    store.save_asset_text(f"{doc_id}-0001", BROKEN)  # has a reading: kept as it is
    assert [a.id for a in store.assets_without_text(10)] == [f"{doc_id}-0002"]
    assert store.get_asset(f"{doc_id}-0001").text == PDF
    (hit,) = store.list_documents(ListFilter(query="late"))
    assert hit.matched_asset_ids == (f"{doc_id}-0000",)


@pytest.mark.heavy
def test_postgres_search_pages_are_the_same_however_they_are_found(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A common word walks the date index; any other is read from the GIN index and
    # sorted: the same rows, in the same order, with the same matched_in.
    import mailatlas_core._pg_backend as pg
    from mailatlas_core._pg_backend import PostgresBackend

    backend = PostgresBackend(pg_url)
    try:
        for n in range(30):
            day = f"2024-02-{1 + (n * 7) % 28:02d}T{n:02d}:00:00Z"
            body = "other words" if n % 4 == 0 else "common word"
            texts = [AssetText("ok", "a common zebra", 14)] if n % 4 == 0 or n % 5 == 0 else []
            rows = [
                AssetRow(f"doc-{n}-{i:04d}", f"doc-{n}", i, "attachment", "application/pdf",
                         f"assets/doc-{n}/f{i}.pdf", None, "0" * 64, f"f{i}.pdf", 3, text)
                for i, text in enumerate(texts)
            ]  # fmt: skip
            with backend.transaction():
                row = _row(n, body_text=body, received_at=day, published_at=day)
                assert backend.insert_document(row, rows, LOC) is None
        pages = [ListFilter(query="common", limit=7, offset=3), ListFilter(query="common")]
        found = {}
        for threshold in (10**6, 1):
            monkeypatch.setattr(pg, "COMMON_QUERY_THRESHOLD", threshold)
            found[threshold] = [
                [(r.id, r.matched_in, r.matched_asset_ids) for r in backend.list_documents(p)]
                for p in pages
            ]
        assert found[1] == found[10**6]
        assert len(found[1][0]) == 7 and len(found[1][1]) == 30
        assert [hit[0] for hit in found[1][1]][:3] == ["doc-27", "doc-23", "doc-19"]
        assert {hit[1] for hit in found[1][1]} == {
            ("body",),
            ("attachment",),
            ("body", "attachment"),
        }
    finally:
        backend.close()
