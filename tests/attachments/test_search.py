"""Attachment text in the store: kept with its asset, searched by ``list --query``, each
hit saying whether the message or an attachment matched, visible in ``show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli
from mailatlas_core import DocumentNotFoundError, ListFilter
from mailatlas_core._sqlite_store import SQLiteStore

from tests.backends import BACKENDS, StoreSpec, spec_in_env

from .files import csv_bytes, docx_bytes, message_with

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MAILATLAS_HOME", str(home))
    for name in ("MAILATLAS_DB", "MAILATLAS_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(params=BACKENDS)
def store_spec(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreSpec:
    return spec_in_env(request.param, request, home, monkeypatch)


@pytest.fixture
def stored(store_spec: StoreSpec, tmp_path: Path) -> dict[str, str]:
    """Three messages: one saying 'zebra' in its body, one in its DOCX, one in neither."""
    raws = {
        "body": message_with([], subject="Zoo trip", body="We saw a zebra and a lion."),
        "docx": message_with(
            [("contract.docx", DOCX, docx_bytes("Clause 4: the zebra crossing stays."))],
            subject="Contract draft",
            body="Draft attached.",
        ),
        "both": message_with(
            [
                ("zebra.csv", "text/csv", b"animal,count\nzebra,3\n"),
                ("x.csv", "text/csv", csv_bytes()),
            ],
            subject="Counts",
            body="zebra counts attached",
        ),
        "none": message_with([("items.csv", "text/csv", csv_bytes())], subject="Stock"),
    }
    paths = []
    for name, raw in raws.items():
        path = tmp_path / f"{name}.eml"
        path.write_bytes(raw)
        paths.append(path)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        refs = atlas.ingest_eml(paths)
    return dict(zip(raws, (r.id for r in refs), strict=True))


def _search(runner: CliRunner, *args: str) -> dict[str, dict[str, object]]:
    result = runner.invoke(cli, ["list", *args])
    assert result.exit_code == 0, result.output
    return {ref["id"]: ref for ref in json.loads(result.stdout)}


def test_query_matches_body_or_attachment_and_says_which(
    stored: dict[str, str], store_spec: StoreSpec
) -> None:
    hits = _search(CliRunner(), "--query", "zebra")
    assert set(hits) == {stored["body"], stored["docx"], stored["both"]}
    assert hits[stored["body"]]["matched_in"] == ["body"]
    assert hits[stored["body"]]["matched_asset_ids"] == []
    assert hits[stored["docx"]]["matched_in"] == ["attachment"]
    assert hits[stored["docx"]]["matched_asset_ids"] == [f"{stored['docx']}-0000"]
    assert hits[stored["both"]]["matched_in"] == ["body", "attachment"]
    assert hits[stored["both"]]["matched_asset_ids"] == [f"{stored['both']}-0000"]
    # The seed's four fields come first; the new ones after the existing ones.
    assert list(hits[stored["docx"]])[:6] == [
        "id", "subject", "source_kind", "created_at", "sender_email", "received_at",
    ]  # fmt: skip
    # A phrase only the DOCX holds; a word in the CSV of another message.
    assert set(_search(CliRunner(), "--query", '"zebra crossing"')) == {stored["docx"]}
    assert set(_search(CliRunner(), "--query", "gadget")) == {stored["both"], stored["none"]}
    # No query, no match fields: list output is unchanged.
    plain = _search(CliRunner())
    assert "matched_in" not in plain[stored["docx"]]
    with store_spec.open(create=False) as store:
        assert store.count_documents(ListFilter(query="zebra")) == 3
        assert store.count_documents(ListFilter(query="zebra", sender="nobody.test")) == 0


def test_show_summarises_and_get_asset_returns_the_text(
    stored: dict[str, str], store_spec: StoreSpec
) -> None:
    result = CliRunner().invoke(cli, ["show", stored["docx"]])
    assert result.exit_code == 0, result.output
    (asset,) = json.loads(result.stdout)["assets"]
    assert asset["text"] == {
        "status": "ok",
        "chars": len("Clause 4: the zebra crossing stays.\nprice\t42 EUR\nConfidential header"),
        "truncated": False,
        "error": None,
        "extractor": asset["text"]["extractor"],
    }
    assert asset["text"]["extractor"].startswith("python-docx ")
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        full = atlas.get_asset(asset["id"])
        assert full.text is not None and full.text.text is not None
        assert full.text.text.startswith("Clause 4: the zebra crossing stays.")
        assert full.to_dict()["text"]["text"] == full.text.text
        with pytest.raises(DocumentNotFoundError):
            atlas.get_asset("nope")


def test_deleting_a_document_drops_its_attachment_text_from_search(
    stored: dict[str, str], store_spec: StoreSpec
) -> None:
    with store_spec.open() as store:
        store.delete_document(stored["docx"])
        assert [r.id for r in store.list_documents(ListFilter(query='"zebra crossing"'))] == []
        if not isinstance(store, SQLiteStore):
            return
        assert store._conn.execute("SELECT count(*) FROM asset_texts WHERE document_id = ?",
                                   (stored["docx"],)).fetchone()[0] == 0  # fmt: skip
        store._conn.execute(
            "INSERT INTO asset_texts_fts (asset_texts_fts) VALUES ('integrity-check')"
        )
