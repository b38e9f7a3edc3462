"""Storing one batch: documents, duplicates, failures and the cursor in one transaction.

Each message goes through the store step file ingest uses too
(:func:`mailatlas_clean.store_message`, with its one failure rule): a message the store
refuses is recorded as a failure and the batch goes on; a store that cannot be written
stops the sync, and the batch, cursor included, is rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from mailatlas_clean import MessageToStore, Stored, interrupts_deferred, store_message, tally
from mailatlas_core import GmailMessage, ImapCursor, StorageFullError, Store, StoreError

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
        seen_again = _seen_again(store, messages)
        outcomes = []
        for i, message in enumerate(messages):
            if tick is not None and i % 8 == 7:
                tick()
            if id(message) in seen_again:
                stored = Stored("duplicate", message.known_id)
            else:
                stored = store_message(store, message, run_id)
            # Stored: its document and raw bytes are not held into the commit, where
            # SQLite builds the full-text index (peak memory, as ingest does).
            message.parsed = message.raw = None
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


def _seen_again(store: Store, messages: list[MessageToStore]) -> set[int]:
    """Record the locations of the batch's stored copies (no body, no failure) in one
    go; the ids of those messages, or none if the store refused one of them.

    A copy re-found by its headers after a UIDVALIDITY change is only a location: one
    savepoint for all of them, not one each, and no ref read back. If the store refuses
    (a document deleted meanwhile...), the savepoint is undone and each goes through
    :func:`store_message` alone, so only the refused one fails, as before.
    """
    copies = [m for m in messages if m.known_id is not None and m.failure is None]
    if len(copies) < 2:
        return set()
    try:
        store.add_locations([(m.known_id, m.location) for m in copies if m.known_id])
    except StorageFullError:
        raise
    except StoreError:
        return set()
    return {id(m) for m in copies}
