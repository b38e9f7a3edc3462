"""Bring a folder that may have changed up to date: changes first, then new mail.

The part of :func:`~._folder.sync_folder` after the cursor check: apply the changes to
stored messages (flags, expunges: :mod:`._changes`), then fetch the messages above the
cursor in batches, parse them (:mod:`._parsing`) and store each batch with the advanced
cursor in one commit (:mod:`._commit`). Imported only when a folder is not unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mailatlas_clean import MessageToStore, known_copies_among, peek_message_id
from mailatlas_core import (
    GmailMessage,
    ImapCursor,
    SourceLocation,
    Store,
    header_block,
    headers_hash,
    to_utc_iso,
)

from ._changes import ChangeCallback, flags_of, modseq_of, track_changes
from ._commit import commit_batch
from ._errors import ImapError
from ._gmail import GMAIL_ITEMS, gmail_message, is_gmail
from ._parsing import ParseItem, ParseOutcome, Parser, PendingParse
from ._result import FolderResult
from ._session import FolderInfo, Session

__all__ = ["update_folder"]

log = logging.getLogger("mailatlas_imap")

BODY_ITEMS = (b"BODY.PEEK[]", b"INTERNALDATE", b"RFC822.SIZE", b"FLAGS")
# Before downloading bodies of a folder it has no cursor for, a sync asks for what tells
# a stored copy from a different message with the same Message-ID: the headers that a
# copy keeps in every folder (Date, From, Subject) and the size. Only a match on all of
# them skips the download; anything else is downloaded and compared in full.
PROBE_ITEMS = (
    b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]",
    b"RFC822.SIZE",
    b"FLAGS",  # a copy recognised here gets its location with the flags it has here
)
SIZE_ITEMS = (b"RFC822.SIZE",)
_PROBE_KEY = b"BODY[HEADER.FIELDS"
MAX_FETCH_BYTES = 64 * 1024 * 1024  # bound one body fetch when the probe gave sizes
# A batch's first body fetch asks for this many messages at most, and they go to the
# parser as soon as they are in: the parser worker starts on them while the rest of
# the batch downloads, instead of idling through the whole first fetch of a sync.
FIRST_FETCH_COUNT = 32


@dataclass(slots=True)
class _Batch:
    uids: list[int]
    messages: list[MessageToStore] = field(default_factory=list)
    # The messages to parse not handed to the parser yet. Handed over: the parser holds
    # their raw bytes until their outcomes come back (a large message's wait on disk
    # while a worker parses it), and ``finish`` gives them to their messages then.
    to_parse: list[ParseItem] = field(default_factory=list)
    waiting: list[MessageToStore] = field(default_factory=list)  # one per message to parse
    # The parses of the messages to parse, in order: one per body fetch that brought some.
    futures: list[PendingParse] = field(default_factory=list)
    gmail: list[GmailMessage | None] | None = None  # Gmail's ids and labels, per message

    def submit_rest(self, parser: Parser) -> None:
        """Hand the messages to parse that came in since the last call to the parser."""
        if self.to_parse:
            items, self.to_parse = self.to_parse, []
            self.futures.append(parser.submit(items))


def update_folder(
    session: Session,
    store: Store,
    folder: str,
    result: FolderResult,
    info: FolderInfo,
    cursor: ImapCursor | None,
    *,
    parser: Parser,
    run_id: int | None,
    progress: Callable[[str, int, int], None] | None = None,
    on_changes: ChangeCallback | None = None,
) -> None:
    """Apply the changes and fetch the new mail of ``folder`` (EXAMINEd: ``info``).

    ``cursor`` is the folder's cursor, ``None`` when there is none (a first sync, or
    its UIDVALIDITY changed: ``result.uidvalidity_reset``).
    """
    cfg = session.config
    # A new or reset cursor over a non-empty store: recognise stored messages by
    # Message-ID before downloading their bodies.
    probe = cursor is None and store.count_documents() > 0
    if cursor is None:
        # Flags are fetched with each message from now on: they are at least as fresh as
        # this HIGHESTMODSEQ, so the next run asks only for changes since it.
        cursor = ImapCursor(
            cfg.host,
            cfg.port,
            cfg.username,
            folder,
            info.uidvalidity,
            highestmodseq=info.highestmodseq,
        )
        if result.uidvalidity_reset:  # the old UIDs name nothing: the rescan re-finds
            result.removed_ids.extend(store.retire_uidvalidity(cursor))
    result.unchanged = False
    uids = session.uids_above(cursor.last_uid, info.exists)
    track_changes(session, store, cursor, info, len(uids), result, on_changes)
    parser.expect(len(uids))
    done = 0

    def finish(batch: _Batch) -> None:
        nonlocal done
        # From here each raw message lives in its document (or message) only, so the
        # store can let go of it once written (peak memory: one message's size less).
        _settle(batch.waiting, [o for future in batch.futures for o in parser.result(future)])
        batch.futures, batch.to_parse, batch.waiting = [], [], []
        cursor.last_uid = batch.uids[-1]
        cursor.uidnext = None  # only a finished folder may be skipped
        commit_batch(
            store, cursor, batch.messages, result, run_id, tick=parser.poll, gmail=batch.gmail
        )
        result.last_uid = cursor.last_uid
        done += len(batch.uids)
        if progress is not None:
            progress(folder, done, len(uids))

    gmail = bool(uids) and is_gmail(session)  # X-GM-EXT-1: keep Gmail's ids and labels
    pending: _Batch | None = None
    for chunk in _chunks(uids, cfg.batch_size):
        try:
            batch = _fetch(
                session, store, folder, info.uidvalidity, chunk, probe, result, gmail, parser
            )
        except ImapError:
            if pending is not None:  # downloaded already: keep it before giving up
                finish(pending)
            raise
        batch.submit_rest(parser)
        if pending is not None:
            finish(pending)
        pending = batch
    if pending is not None:
        finish(pending)
    cursor.uidnext, cursor.highestmodseq = info.uidnext, info.highestmodseq
    store.save_cursor(cursor)


def _settle(messages: list[MessageToStore], answers: list[tuple[bytes, ParseOutcome]]) -> None:
    """Give each message its raw bytes back, and its parser's answer (the answers are
    let go here: nothing but the messages holds them afterwards)."""
    for message, (raw, outcome) in zip(messages, answers, strict=True):
        message.raw = raw
        message.settle(outcome)


def _chunks(uids: Sequence[int], size: int) -> list[list[int]]:
    return [list(uids[i : i + size]) for i in range(0, len(uids), size)]


def _fetch(
    session: Session,
    store: Store,
    folder: str,
    uidvalidity: int,
    uids: list[int],
    probe: bool,
    result: FolderResult,
    gmail: bool = False,
    parser: Parser | None = None,
) -> _Batch:
    cfg = session.config
    extra = (b"MODSEQ",) if session.condstore else ()

    def where(uid: int, item: dict[bytes, object] | None = None) -> SourceLocation:
        return SourceLocation(
            kind="imap",
            host=cfg.host,
            port=cfg.port,
            username=cfg.username,
            folder=folder,
            uid=uid,
            uidvalidity=uidvalidity,
            flags=None if item is None else flags_of(item),
            modseq=None if item is None else modseq_of(item),
        )

    by_uid: dict[int, MessageToStore] = {}
    wanted: list[tuple[int, int]] = []
    if not probe:  # sizes first: body fetches are bounded in bytes, never by count alone
        heads = session.fetch(uids, SIZE_ITEMS + (GMAIL_ITEMS if gmail else ()))
        # A UID missing here is still asked for (and warned about if it stays missing).
        wanted = [(uid, _size(heads.get(uid, {}))) for uid in uids]
    else:
        heads = session.fetch(uids, PROBE_ITEMS + extra + (GMAIL_ITEMS if gmail else ()))
        probed = {uid: _probe_key(item) for uid, item in heads.items()}
        known = store.known_copies(k for k in probed.values() if k is not None)
        for uid in uids:
            if uid not in heads:
                continue  # expunged since the search
            key = probed[uid]
            if key is not None and key in known:
                by_uid[uid] = MessageToStore(where(uid, heads[uid]), known_id=known[key])
            else:
                wanted.append((uid, _size(heads[uid])))
    batch = _Batch(uids)
    limit = cfg.size_limit()
    for uid, size in wanted:
        if size > limit:
            log.warning("%s: uid %d is %d bytes, over the limit; not downloaded", folder, uid, size)
            by_uid[uid] = MessageToStore(
                where(uid), failure=f"not downloaded: {size:,} bytes, over the limit of {limit:,}"
            )
    sizes = dict(wanted)
    tick = None if parser is None else parser.poll
    for chunk in _by_size([(uid, size) for uid, size in wanted if size <= limit]):
        expect = sum(sizes[uid] for uid in chunk)
        data = session.fetch(chunk, BODY_ITEMS + extra, expect, tick)
        missing = [uid for uid in chunk if uid not in data]
        if missing:  # expunged since the search, or a server hiccup: ask once more
            data.update(
                session.fetch(missing, BODY_ITEMS + extra, sum(sizes[uid] for uid in missing))
            )
            for uid in missing:
                if uid not in data:
                    log.warning(
                        "%s: uid %d is gone from the server (expunged?); skipped", folder, uid
                    )
        result.downloaded_count += len(data)
        got = [uid for uid in chunk if uid in data]
        bodies = [data[uid].get(b"BODY[]") for uid in got]
        # The dedupe lookups of the whole fetch at once (two queries, not two per message).
        found = iter(known_copies_among(store, [b for b in bodies if isinstance(b, bytes)]))
        for uid, raw in zip(got, bodies, strict=True):
            copy = next(found) if isinstance(raw, bytes) else None
            by_uid[uid] = _classify(raw, copy, data[uid], where(uid, data[uid]), batch)
        if parser is not None:
            batch.submit_rest(parser)  # the parser starts on these during the next fetch
    batch.messages = [by_uid[uid] for uid in uids if uid in by_uid]
    if gmail:  # one document per message, whichever label folders show it
        batch.gmail = [
            gmail_message(heads.get(m.location.uid or 0, {}), cfg, folder) for m in batch.messages
        ]
    return batch


def _size(item: dict[bytes, object]) -> int:
    size = item.get(b"RFC822.SIZE")
    return size if isinstance(size, int) and size >= 0 else 0


def _probe_key(item: dict[bytes, object]) -> tuple[str, str, int] | None:
    """(Message-ID, headers hash, size) of a probed message; None if it cannot be told."""
    block = next((v for k, v in item.items() if k.startswith(_PROBE_KEY)), None)
    if not isinstance(block, bytes):
        return None
    mid = peek_message_id(block)
    return None if mid is None else (mid, headers_hash(header_block(block)), _size(item))


def _by_size(sized: list[tuple[int, int]]) -> list[list[int]]:
    """Split into body fetches of at most ``MAX_FETCH_BYTES`` (a single big one alone),
    the first of at most ``FIRST_FETCH_COUNT`` messages."""
    chunks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid, size in sized:
        full = not chunks and len(current) >= FIRST_FETCH_COUNT
        if current and (full or total + size > MAX_FETCH_BYTES):
            chunks.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        chunks.append(current)
    return chunks


def _classify(
    raw: object,
    known: str | None,
    item: dict[bytes, object],
    loc: SourceLocation,
    batch: _Batch,
) -> MessageToStore:
    """The dedupe step: a stored message (``known``: its stored copy, from
    :func:`known_copies_among`) becomes a duplicate; the rest is queued for parsing."""
    if not isinstance(raw, bytes):
        return MessageToStore(loc, raw=b"", failure="server returned no message body")
    if known is not None:
        return MessageToStore(loc, known_id=known)
    received = item.get(b"INTERNALDATE")
    received_at = to_utc_iso(received) if isinstance(received, datetime) else None
    message = MessageToStore(loc)  # its bytes go to the parser, and come back with it
    batch.to_parse.append((raw, received_at))
    batch.waiting.append(message)
    return message
