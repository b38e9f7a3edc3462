"""The ``sync`` MCP tool (only with ``mailatlas mcp --allow-sync``): one account of the
accounts file, synced like ``mailatlas sync imap --account NAME``, into the store the
server was given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from .._atlas import MailAtlas
from ._tools import Result, store_source

__all__ = ["run_apart", "sync_account"]


def sync_account(atlas: MailAtlas, account: str, *, config: Path | None = None) -> Result:
    """Sync ``account`` of the accounts file ``config`` into the store of ``atlas``."""
    from mailatlas_imap import load_accounts

    chosen = load_accounts(config).select([account])
    summary = atlas.sync_accounts(chosen)
    source = f"mailatlas sync of account {account!r} into {store_source(atlas)}"
    data = summary.to_dict()
    for entry in data["accounts"]:
        for folder in entry["folders"]:
            # A first sync can bring thousands: the counts say how many, search finds them.
            del folder["document_refs"]
    trusted = {
        "status": summary.status,
        "document_refs": "left out; search (e.g. since: today) lists the new documents",
    }
    return Result(source, data, trusted)


async def run_apart(atlas: MailAtlas, call: Callable[[MailAtlas], Result]) -> Result:
    """Run a long ``call`` (a sync) without holding up the server's other calls when
    that is safe: in a worker thread, on a connection of its own, when the facade can
    open one (it names its store by path or URL). A store handed in
    (``MailAtlas(store=...)``) belongs to the thread that opened it: the call runs there,
    and the server's other calls wait for it."""
    if atlas.db_path is None or atlas.workspace_path is None:
        return call(atlas)
    db, workspace = atlas.db_path, atlas.workspace_path

    def apart() -> Result:
        with MailAtlas(db, workspace, atlas.parser_config) as own:
            return call(own)

    return await asyncio.to_thread(apart)
