"""Sync one folder: compare with the cursor, fetch what is new in batches, store it.

Each batch is stored in one ``store.transaction()`` together with the advanced cursor,
so a run interrupted at any point resumes after the last committed batch. Batches are
pipelined: while batch N is parsed (possibly in a worker process), batch N+1 is
downloaded and batch N-1 committed (:mod:`._fetching`).

A folder the cursor says is unchanged is done after its EXAMINE: the fetch, change and
store machinery (and the parser's and store step's modules it needs) is imported only
when there is something to do, so a rerun with nothing new never loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from mailatlas_core import ImapCursor, Store

from ._folders import examine_folder, find_cursor
from ._parsing import Parser
from ._result import FolderResult
from ._session import FolderInfo, Session

if TYPE_CHECKING:
    from ._changes import ChangeCallback

__all__ = ["ProgressCallback", "sync_folder"]

log = logging.getLogger("mailatlas_imap")

ProgressCallback = Callable[[str, int, int], None]
"""Called after each committed batch as ``progress(folder, done, total)``."""


def sync_folder(
    session: Session,
    store: Store,
    folder: str,
    result: FolderResult,
    *,
    parser: Parser,
    run_id: int | None,
    progress: ProgressCallback | None = None,
    on_changes: ChangeCallback | None = None,
) -> None:
    """Bring one folder up to date; counts accumulate in ``result`` across retries.

    Changes to the messages stored before (flags, expunges) are applied first
    (:mod:`._changes`), then the new messages are fetched.
    """
    cfg = session.config
    info = examine_folder(session, folder)  # with UIDNEXT from STATUS if EXAMINE had none
    result.uidvalidity = str(info.uidvalidity)
    cursor = find_cursor(store, cfg, folder)
    if cursor is not None and cursor.uidvalidity == info.uidvalidity:
        result.last_uid = cursor.last_uid
        if _unchanged(cursor, info, qresync=session.qresync):
            result.unchanged = True
            return
    elif cursor is not None:
        log.info(
            "%s: UIDVALIDITY %s -> %s, rescanning", folder, cursor.uidvalidity, info.uidvalidity
        )
        result.uidvalidity_reset = True
        cursor = None
        result.last_uid = 0
    from ._fetching import update_folder  # something to do: load the machinery now

    update_folder(
        session,
        store,
        folder,
        result,
        info,
        cursor,
        parser=parser,
        run_id=run_id,
        progress=progress,
        on_changes=on_changes,
    )


def _unchanged(cursor: ImapCursor, info: FolderInfo, *, qresync: bool) -> bool:
    """Nothing added, no flag changed, nothing expunged: only HIGHESTMODSEQ can tell the
    last two, and only a QRESYNC server must raise it on expunge (RFC 7162 §3.2)."""
    if info.uidnext is None or cursor.uidnext != info.uidnext:
        return False
    return qresync and info.highestmodseq is not None and cursor.highestmodseq == info.highestmodseq
