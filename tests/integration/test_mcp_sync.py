"""The MCP ``sync`` tool writes into the store the server was given, against the real
Dovecot, on every store backend: a store handed to the facade (``MailAtlas(store=...)``),
which has no path to open a second connection from, and a facade that names its store
by path or URL (the sync then runs in a worker thread on a connection of its own)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mailatlas_cli import MailAtlas
from mailatlas_core import ListFilter, Store
from mcp import Client
from mcp.types import CallToolResult, TextContent

from devkit.dovecot import DovecotServer
from tests.backends import StoreSpec
from tests.integration.conftest import messages, new_mailbox

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]


def _account(
    dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, tag: str
) -> Path:
    """A fresh mailbox holding ``count`` messages tagged ``tag``, as the accounts file's
    account ``work`` (its password in the environment); returns the file."""
    box = new_mailbox(dovecot)
    dovecot.fill_maildir(box.user, "INBOX", messages(count, tag=tag))
    monkeypatch.setenv("MCP_SYNC_TEST_PW", box.password)
    conf = tmp_path / "mailatlas.toml"
    conf.write_text(
        "[accounts.work]\n"
        'host = "127.0.0.1"\n'
        f"port = {dovecot.imaps_port}\n"
        f'ca_file = "{dovecot.cert_path}"\n'
        f'username = "{box.user}"\n'
        'password_env = "MCP_SYNC_TEST_PW"\n'
    )
    return conf


def _sync_and_search(atlas: MailAtlas, conf: Path, word: str) -> list[CallToolResult]:
    from mailatlas_cli._mcp._server import build_server

    server = build_server(atlas, allow_sync=True, config=conf)

    async def main() -> list[CallToolResult]:
        async with Client(server) as client:
            synced = await client.call_tool("sync", {"account": "work"})
            found = await client.call_tool("search", {"query": word})
            return [synced, found]

    return asyncio.run(asyncio.wait_for(main(), timeout=120))


def _data(result: CallToolResult) -> Any:
    (content,) = result.content
    assert isinstance(content, TextContent)
    assert not result.is_error, content.text
    block = content.text.split('">\n', 1)[1].rsplit("\n</untrusted-mail-data", 1)[0]
    return json.loads(block)


def test_sync_writes_into_a_store_handed_to_the_facade(
    dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    conf = _account(dovecot, tmp_path, monkeypatch, 3, "mcpgiven")
    synced, found = _sync_and_search(MailAtlas(store=store), conf, "mcpgiven")
    summary = _data(synced)
    assert summary["status"] == "ok", summary
    # The refs are left out (a first sync can bring thousands, over the result's
    # size bound); the counts stay, and search lists the documents.
    (folder,) = summary["accounts"][0]["folders"]
    assert folder["ingested_count"] == 3 and "document_refs" not in folder
    assert store.count_documents(ListFilter(query="mcpgiven")) == 3
    assert len(_data(found)["documents"]) == 3


def test_sync_of_a_facade_with_paths_uses_its_store(
    dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_spec: StoreSpec
) -> None:
    """Paths, or (PostgreSQL + S3) the URLs ``--db`` and ``--workspace`` would take."""
    conf = _account(dovecot, tmp_path, monkeypatch, 2, "mcppaths")
    db, ws = store_spec.db, store_spec.workspace
    with MailAtlas(db, ws) as atlas:
        synced, found = _sync_and_search(atlas, conf, "mcppaths")
    assert _data(synced)["status"] == "ok"
    assert len(_data(found)["documents"]) == 2
    with MailAtlas(db, ws) as atlas:
        assert atlas.count_documents(query="mcppaths") == 2
