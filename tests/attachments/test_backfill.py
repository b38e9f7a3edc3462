"""``mailatlas attachment-text``: stores written before attachment text get it, once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_clean import ExtractLimits, ParserConfig
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli

from tests.backends import BACKENDS, StoreSpec, spec_for

from .files import docx_bytes, message_with

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(params=BACKENDS)
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """SQLite + files, and (heavy leg) PostgreSQL + S3."""
    return spec_for(request.param, request, tmp_path, migrated=True)


def test_old_assets_get_their_text_and_become_searchable(
    tmp_path: Path, store_spec: StoreSpec
) -> None:
    raw = message_with(
        [
            ("contract.docx", DOCX, docx_bytes("The zebra clause")),
            ("huge.pdf", "application/pdf", b"%PDF-1.4 placeholder"),
            ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ],
        subject="Old mail",
    )
    (tmp_path / "m.eml").write_bytes(raw)
    db, ws = store_spec.db, store_spec.workspace
    # As a store written before MailAtlas read attachment text: no readings.
    off = ParserConfig(attachments=ExtractLimits(enabled=False))
    with MailAtlas(db, ws, parser_config=off) as atlas:
        (ref,) = atlas.ingest_eml([tmp_path / "m.eml"])
        doc = atlas.get_document(ref.id)
        assert [a.text for a in doc.assets] == [None, None, None]
        assert atlas.list_documents(query="zebra") == []
    if store_spec.backend == "sqlite":
        # The stored PDF becomes a 1 GB sparse file: refused by its size, never read.
        os.truncate(Path(doc.assets[1].file_path), 1 << 30)
        size = "1024.0 MB"
    else:  # an S3 object of 33 MB, over the 32 MB limit: refused by its size too
        with store_spec.open() as store:
            store.blobs.put(doc.assets[1].key, b"%PDF-1.4 " + b"0" * (33 << 20))
            store.blobs.flush()  # the upload may run in the background: wait for it
        size = "33.0 MB"

    env = store_spec.env()
    result = CliRunner().invoke(cli, ["attachment-text"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "read_count": 3,
        "by_status": {"ok": 1, "skipped": 1, "unsupported": 1},
    }
    with MailAtlas(db, ws) as atlas:
        (hit,) = atlas.list_documents(query="zebra")
        assert hit.matched_in == ("attachment",)
        texts = [a.text for a in atlas.get_document(ref.id).assets]
        assert texts[1] is not None and texts[1].error == (
            f"the file is {size}, above the 32 MB limit for reading attachment text"
        )
    again = CliRunner().invoke(cli, ["attachment-text"], env=env)
    assert json.loads(again.stdout) == {"read_count": 0, "by_status": {}}
