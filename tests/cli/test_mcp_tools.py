"""The MCP tool table, in this process (no server process): every ``list`` filter is a
``search`` argument, each tool's arguments are its function's, typed, and the tools
serve a store opened from a ``postgresql://`` URL as they serve a SQLite file."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from mailatlas_cli import MailAtlas

from .conftest import make_message


def _schemas(tmp_path: Path) -> dict[str, Any]:
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    server = build_server(MailAtlas(tmp_path / "s.db", tmp_path / "ws"), allow_sync=True)

    async def main() -> dict[str, Any]:
        async with Client(server) as client:
            return {t.name: t.input_schema for t in (await client.list_tools()).tools}

    return asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_search_takes_every_filter_of_list(tmp_path: Path) -> None:
    schemas = _schemas(tmp_path)
    filters = list(inspect.signature(MailAtlas.count_documents).parameters)[1:]
    missing = set(filters) - set(schemas["search"]["properties"])
    assert not missing, f"add the schema of {sorted(missing)} to search in _mcp/_server.py"
    assert set(schemas["search"]["properties"]) == {*filters, "limit", "cursor"}
    assert schemas["search"]["properties"]["date_field"]["default"] == "sent"
    assert schemas["search"]["properties"]["limit"]["default"] == 20
    assert schemas["sync"] == {
        "properties": {
            "account": {"maxLength": 200, "minLength": 1, "title": "Account", "type": "string"}
        },
        "required": ["account"],
        "title": "syncArguments",
        "type": "object",
    }  # the accounts file is the server's setting, never a client's argument
    assert schemas["get_attachment"]["required"] == ["asset_id"]
    assert set(schemas["get_attachment"]["properties"]) == {"asset_id", "cursor", "max_chars"}


@pytest.mark.heavy
def test_the_tools_serve_a_store_opened_from_a_postgresql_url(pg_url: str, tmp_path: Path) -> None:
    # What `mailatlas mcp --db postgresql://...` serves: the facade of that URL.
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    csv = make_message("Figures", "numbers attached", attachment=("f.csv", b"zanzibar,42\n"))
    plain = make_message("Zanzibar trip", "we land in zanzibar at noon", day=2)
    for name, raw in (("csv.eml", csv), ("plain.eml", plain)):
        (tmp_path / name).write_bytes(raw)
    atlas = MailAtlas(pg_url, tmp_path / "workspace")
    refs = atlas.ingest_eml([tmp_path / "csv.eml", tmp_path / "plain.eml"])
    assert len(refs) == 2

    async def main() -> list[Any]:
        async with Client(build_server(atlas)) as client:
            found = _data(await client.call_tool("search", {"query": "zanzibar"}))
            doc_id = next(d["id"] for d in found["documents"] if d["subject"] == "Figures")
            doc = _data(await client.call_tool("get_document", {"document_id": doc_id}))
            (asset,) = doc["assets"]
            text = _data(await client.call_tool("get_attachment", {"asset_id": asset["id"]}))
            stats = _data(await client.call_tool("stats", {}))
            return [found, doc, text, stats]

    try:
        found, doc, text, stats = asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        atlas.close()
    hits = {d["subject"]: d["matched_in"] for d in found["documents"]}
    assert hits == {"Zanzibar trip": ["body"], "Figures": ["attachment"]}  # newest first
    assert [d["subject"] for d in found["documents"]] == ["Zanzibar trip", "Figures"]
    assert doc["headers"]["subject"] == "Figures" and doc["body_text"].startswith("numbers")
    assert "zanzibar" in text["text"] and text["filename"] == "f.csv"
    assert stats["documents"] == 2


def _data(result: Any) -> Any:
    (content,) = result.content
    assert not result.is_error, content.text
    return json.loads(content.text.split('">\n', 1)[1].rsplit("\n</untrusted-mail-data", 1)[0])
