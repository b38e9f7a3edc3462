"""The ``sync`` MCP tool (only with ``mailatlas mcp --allow-sync``): one account of the
accounts file, synced like ``mailatlas sync imap --account NAME``."""

from __future__ import annotations

from pathlib import Path

from ..atlas import MailAtlas
from ._tools import Result

__all__ = ["sync_account"]


def sync_account(atlas: MailAtlas, config: Path | None, account: str) -> Result:
    """Sync ``account`` into the store of ``atlas`` (called in a worker thread: it opens
    a store connection of its own, as SQLite connections stay in their thread)."""
    from mailatlas_imap import load_accounts

    chosen = load_accounts(config).select([account])
    with MailAtlas(atlas.db_path, atlas.workspace_path, atlas.parser_config) as own:
        summary = own.sync_accounts(chosen)
    source = f"mailatlas sync of account {account!r} into {atlas.db_path}"
    return Result(source, summary.to_dict(), {"status": summary.status})
