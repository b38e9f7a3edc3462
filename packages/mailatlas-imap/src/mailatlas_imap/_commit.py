"""Storing one batch: documents, duplicates, failures and the cursor in one transaction.

Each message goes through the store step file ingest uses too
(:func:`mailatlas_clean.store_message`, with its one failure rule): a message the store
refuses is recorded as a failure and the batch goes on; a store that cannot be written
stops the sync, and the batch, cursor included, is rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from mailatlas_clean import MessageToStore, interrupts_deferred, store_message, tally
from mailatlas_core import GmailMessage, ImapCursor, Store

from ._result import FolderResult

__all__ = ["commit_batch"]


def commit_batch(
    store: Store,
    cursor: ImapCursor,
    messages: list[MessageToStore],
    result: FolderResult,
    run_id: int | None,
    tick: Callable[[], None] | None = None,
    gmail: Sequence[GmailMessage | None] | None = None,
) -> None:
    """Store ``messages`` and save ``cursor`` in one commit; count the outcomes.

    ``tick`` is called every 8 messages (the sync keeps its parser workers fed with it, and
    reads their replies: a worker's reply pipe holds those of only ~15 messages of 29 KB,
    after which the worker waits, blocked, until they are read).
    ``gmail`` (one entry per message, Gmail only) is kept on each stored document.
    """
    with contextlib.ExitStack() as batch:
        batch.enter_context(store.transaction())
        outcomes = []
        for i, message in enumerate(messages):
            if tick is not None and i % 8 == 7:
                tick()
            stored = store_message(store, message, run_id)
            labels = gmail[i] if gmail is not None else None
            if labels is not None and stored.document_id is not None:
                store.set_gmail(stored.document_id, labels)
            outcomes.append(stored)
        store.save_cursor(cursor)
        # A Ctrl-C that lands after COMMIT waits until the batch is counted, so an
        # interrupted sync reports exactly what it committed.
        with interrupts_deferred():
            batch.close()  # commit
            for stored in outcomes:
                result.fetched_count += 1
                tally(stored, result, result.document_refs)
                if stored.kind == "duplicate" and stored.document_id is not None:
                    result.arrived_ids.add(stored.document_id)  # a move, if removed elsewhere
