"""Storing one batch: documents, duplicates, failures and the cursor in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mailatlas_core import DocumentRef, ImapCursor, ParsedDocument, SourceLocation, Store
from mailatlas_core.errors import StorageFullError, StoreError
from mailatlas_core.gmail import GmailMessage

from .result import FolderResult

__all__ = ["Action", "commit_batch"]

log = logging.getLogger("mailatlas_imap")


@dataclass(slots=True)
class Action:
    """What to store for one message of a batch."""

    location: SourceLocation
    known_id: str | None = None
    parsed: ParsedDocument | None = None
    raw: bytes | None = None
    failure: str | None = None
    gmail: GmailMessage | None = None  # X-GM-MSGID, X-GM-THRID, X-GM-LABELS (Gmail)


def commit_batch(
    store: Store,
    cursor: ImapCursor,
    actions: list[Action],
    result: FolderResult,
    run_id: int | None,
    tick: Callable[[], None] | None = None,
) -> None:
    """Apply ``actions`` and save ``cursor`` in one commit; count the outcomes.

    ``tick`` is called every 32 messages (the sync keeps its parser workers fed with it).
    """
    try:
        with store.transaction():
            outcome = []
            for i, a in enumerate(actions):
                if tick is not None and i % 32 == 31:
                    tick()
                outcome.append(_apply(store, a, run_id))
            store.save_cursor(cursor)
    except StorageFullError:
        raise
    except StoreError as exc:
        # One message the store refuses must not sink the batch: redo it one by one.
        log.warning("batch rejected by the store (%s); retrying message by message", exc)
        outcome = []
        for a in actions:
            try:
                with store.transaction():
                    outcome.append(_apply(store, a, run_id))
            except StorageFullError:
                raise
            except StoreError as one:
                store.record_failure(a.location, f"store refused the message: {one}", a.raw, run_id)
                outcome.append(("failed", None))
        store.save_cursor(cursor)
    for kind, ref in outcome:
        result.fetched_count += 1
        if kind == "new":
            result.ingested_count += 1
            if ref is not None:
                result.document_refs.append(ref)
        elif kind == "duplicate":
            result.duplicate_count += 1
        else:
            result.failed_count += 1


def _apply(store: Store, a: Action, run_id: int | None) -> tuple[str, DocumentRef | None]:
    if a.failure is not None:
        store.record_failure(a.location, a.failure, a.raw, run_id)
        return ("failed", None)
    if a.known_id is not None:
        added = store.add_location(a.known_id, a.location)
    else:
        assert a.parsed is not None
        added = store.add(a.parsed, a.location)
    if a.gmail is not None:
        store.set_gmail(added.document_id, a.gmail)
    return ("new", added.ref) if added.is_new else ("duplicate", None)
