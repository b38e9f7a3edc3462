"""The MCP tool table, in this process (no server process): every ``list`` filter is a
``search`` argument, and each tool's arguments are its function's, typed."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

from mailatlas_cli import MailAtlas


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
