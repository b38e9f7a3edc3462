"""Sync one folder: compare with the cursor, fetch what is new in batches, store it.

Each batch is stored in one ``store.transaction()`` together with the advanced cursor,
so a run interrupted at any point resumes after the last committed batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailatlas_clean import ParseError, parse_bytes, peek_message_id
from mailatlas_core import (
    DocumentRef,
    ImapCursor,
    ParsedDocument,
    SourceLocation,
    Store,
    content_hash,
)
from mailatlas_core.dates import to_utc_iso
from mailatlas_core.errors import StorageFullError, StoreError

from ._session import FolderInfo, Session
from .config import ImapSyncConfig
from .result import FolderResult

__all__ = ["ProgressCallback", "sync_folder"]

log = logging.getLogger("mailatlas_imap")

ProgressCallback = Callable[[str, int, int], None]
"""Called after each committed batch as ``progress(folder, done, total)``."""

BODY_ITEMS = (b"BODY.PEEK[]", b"INTERNALDATE", b"RFC822.SIZE", b"FLAGS")
PROBE_ITEMS = (b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]", b"RFC822.SIZE")
_PROBE_KEY = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
MAX_BATCH_BYTES = 64 * 1024 * 1024  # bound memory when messages are large


@dataclass(slots=True)
class _Action:
    """What to store for one message of a batch."""

    location: SourceLocation
    known_id: str | None = None
    parsed: ParsedDocument | None = None
    raw: bytes | None = None
    failure: str | None = None


def sync_folder(
    session: Session,
    store: Store,
    folder: str,
    result: FolderResult,
    *,
    run_id: int | None,
    progress: ProgressCallback | None = None,
) -> None:
    """Bring one folder up to date; counts accumulate in ``result`` across retries."""
    cfg = session.config
    info = session.examine(folder)
    result.uidvalidity = str(info.uidvalidity)
    cursor = store.get_cursor(cfg.host, cfg.port, cfg.username, folder)
    probe = False
    if cursor is not None and cursor.uidvalidity == info.uidvalidity:
        result.last_uid = cursor.last_uid
        if _unchanged(cursor, info):
            result.unchanged = True
            return
    elif cursor is not None:
        log.info(
            "%s: UIDVALIDITY changed %s -> %s, rescanning",
            folder,
            cursor.uidvalidity,
            info.uidvalidity,
        )
        result.uidvalidity_reset = True
        cursor = None
        result.last_uid = 0
    if cursor is None:
        # A new or reset cursor over a non-empty store: recognise stored messages by
        # Message-ID before downloading their bodies.
        probe = store.count_documents() > 0
        cursor = ImapCursor(cfg.host, cfg.port, cfg.username, folder, info.uidvalidity)
    result.unchanged = False
    uids = session.uids_above(cursor.last_uid)
    done = 0
    for batch in _batches(uids, cfg.batch_size):
        actions, downloaded = _fetch_batch(
            session, store, cfg, folder, info.uidvalidity, batch, probe
        )
        result.downloaded_count += downloaded
        cursor.last_uid = batch[-1]
        cursor.uidnext = cursor.highestmodseq = None  # only a finished folder may be skipped
        _commit(store, cursor, actions, result, run_id)
        result.last_uid = cursor.last_uid
        done += len(batch)
        if progress is not None:
            progress(folder, done, len(uids))
    cursor.uidnext, cursor.highestmodseq = info.uidnext, info.highestmodseq
    store.save_cursor(cursor)


def _unchanged(cursor: ImapCursor, info: FolderInfo) -> bool:
    if info.uidnext is None or cursor.uidnext != info.uidnext:
        return False
    return info.highestmodseq is None or cursor.highestmodseq == info.highestmodseq


def _batches(uids: Sequence[int], size: int) -> list[list[int]]:
    return [list(uids[i : i + size]) for i in range(0, len(uids), size)]


def _fetch_batch(
    session: Session,
    store: Store,
    cfg: ImapSyncConfig,
    folder: str,
    uidvalidity: int,
    batch: list[int],
    probe: bool,
) -> tuple[list[_Action], int]:
    def where(uid: int) -> SourceLocation:
        return SourceLocation(
            kind="imap",
            host=cfg.host,
            port=cfg.port,
            username=cfg.username,
            folder=folder,
            uid=uid,
            uidvalidity=uidvalidity,
        )

    actions: dict[int, _Action] = {}
    chunks = [batch]
    if probe:
        heads = session.fetch(batch, PROBE_ITEMS)
        mids = {uid: peek_message_id(bytes(d.get(_PROBE_KEY) or b"")) for uid, d in heads.items()}
        known = store.known_message_ids(m for m in mids.values() if m)
        wanted: list[tuple[int, int]] = []
        for uid in batch:
            mid = mids.get(uid)
            if uid not in heads:
                continue  # expunged since the search
            if mid is not None and mid in known:
                actions[uid] = _Action(where(uid), known_id=known[mid])
            else:
                size = heads[uid].get(b"RFC822.SIZE")
                wanted.append((uid, size if isinstance(size, int) else 0))
        chunks = _by_size(wanted)
    downloaded = 0
    for chunk in chunks:
        data = session.fetch(chunk, BODY_ITEMS) if chunk else {}
        downloaded += len(data)
        for uid in chunk:
            if uid in data:
                actions[uid] = _message_action(store, cfg, data[uid], where(uid))
    return [actions[uid] for uid in batch if uid in actions], downloaded


def _by_size(sized: list[tuple[int, int]]) -> list[list[int]]:
    """Split into body fetches of at most ``MAX_BATCH_BYTES`` (a single big one alone)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid, size in sized:
        if current and total + size > MAX_BATCH_BYTES:
            chunks.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        chunks.append(current)
    return chunks


def _message_action(
    store: Store, cfg: ImapSyncConfig, item: dict[bytes, object], loc: SourceLocation
) -> _Action:
    raw = item.get(b"BODY[]")
    if not isinstance(raw, bytes):
        return _Action(loc, raw=b"", failure="server returned no message body")
    known = store.known(peek_message_id(raw), content_hash(raw))
    if known is not None:
        return _Action(loc, known_id=known)
    received = item.get(b"INTERNALDATE")
    received_at = to_utc_iso(received) if isinstance(received, datetime) else None
    try:
        parsed = parse_bytes(raw, cfg.parser_config, received_at=received_at)
    except ParseError as exc:
        return _Action(loc, raw=raw, failure=str(exc) or "message could not be parsed")
    except Exception as exc:  # a parser bug must not block the folder either
        log.warning("parser crashed on %s: %r", loc.key(), exc)
        return _Action(loc, raw=raw, failure=f"parser error: {type(exc).__name__}: {exc}")
    return _Action(loc, parsed=parsed, raw=raw)


def _commit(
    store: Store,
    cursor: ImapCursor,
    actions: list[_Action],
    result: FolderResult,
    run_id: int | None,
) -> None:
    try:
        with store.transaction():
            outcome = [_apply(store, a, run_id) for a in actions]
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


def _apply(store: Store, a: _Action, run_id: int | None) -> tuple[str, DocumentRef | None]:
    if a.failure is not None:
        store.record_failure(a.location, a.failure, a.raw, run_id)
        return ("failed", None)
    if a.known_id is not None:
        store.add_location(a.known_id, a.location)
        return ("duplicate", None)
    assert a.parsed is not None
    added = store.add(a.parsed, a.location)
    return ("new", added.ref) if added.is_new else ("duplicate", None)
