"""Changes to messages already stored: their flags, and whether they are still there.

Runs for a folder whose cursor is valid, before its new mail is fetched, over the UIDs
up to ``cursor.last_uid``. Three ways, cheapest first:

* **QRESYNC**: ``UID FETCH 1:<last_uid> (FLAGS) (CHANGEDSINCE <modseq> VANISHED)`` names
  the messages whose flags changed and the UIDs expunged since the cursor's
  ``highestmodseq``: the reply is as long as the changes, not the folder.
* **CONDSTORE** alone: the same without ``VANISHED``; expunges are found by comparing
  how many messages the server has at or below ``last_uid`` with how many live
  locations the store has, and listing the UIDs only when the two differ.
* **Neither** (or no ``highestmodseq`` known yet, e.g. after upgrading a store): a full
  comparison, UIDs listed in windows (``UID SEARCH``) and flags fetched in batches; its
  cost grows with the folder (see docs/imap-internals.md).

Changes are committed in batches of :data:`CHANGE_BATCH`; the cursor's
``highestmodseq`` advances only with the last one, so a run killed half-way applies the
same changes again (idempotently) and loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mailatlas_core import FlagUpdate, ImapCursor, Store, normalize_flags

from ._replies import parse_modseq
from ._result import FolderResult
from ._session import FetchData, FolderInfo, Session

__all__ = ["CHANGE_BATCH", "ChangeBatch", "ChangeCallback", "track_changes"]

log = logging.getLogger("mailatlas_imap")

CHANGE_BATCH = 200  # flag changes or removals committed together
FLAGS_BATCH = 2000  # UIDs per FLAGS fetch of a full comparison (a reply of ~100 kB)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """What one committed batch of changes did (ids of documents, one per location)."""

    folder: str
    flags_changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


ChangeCallback = Callable[[ChangeBatch], None]
"""Called after each committed batch of changes to stored messages."""


def flags_of(item: dict[bytes, object]) -> tuple[str, ...] | None:
    """The normalised FLAGS of a FETCH item, ``None`` when it has none."""
    value = item.get(b"FLAGS")
    if not isinstance(value, (tuple, list)):
        return None
    return normalize_flags(v for v in value if isinstance(v, (bytes, str)))


def modseq_of(item: dict[bytes, object]) -> int | None:
    return parse_modseq(item.get(b"MODSEQ"))


class _Applier:
    """Commits changes in batches, the last one with the advanced cursor."""

    def __init__(
        self,
        store: Store,
        cursor: ImapCursor,
        result: FolderResult,
        on_changes: ChangeCallback | None,
    ) -> None:
        self.store, self.cursor, self.result = store, cursor, result
        self.on_changes = on_changes
        self.updates: list[FlagUpdate] = []
        self.gone: list[int] = []

    def update(self, updates: Sequence[FlagUpdate]) -> None:
        for u in updates:
            self.updates.append(u)
            if len(self.updates) >= CHANGE_BATCH:
                self.commit()

    def remove(self, uids: Sequence[int]) -> None:
        for uid in uids:
            self.gone.append(uid)
            if len(self.gone) >= CHANGE_BATCH:
                self.commit()

    def commit(self, highestmodseq: int | None = None, *, final: bool = False) -> None:
        if not (self.updates or self.gone or final):
            return
        store, cursor = self.store, self.cursor
        with store.transaction():
            changed = store.update_flags(cursor, self.updates) if self.updates else []
            removed = store.mark_removed(cursor, self.gone) if self.gone else []
            if final:
                cursor.highestmodseq = highestmodseq
            store.save_cursor(cursor)
        self.updates, self.gone = [], []
        self.result.flag_change_count += len(changed)
        self.result.removed_ids.extend(removed)
        if self.on_changes is not None and (changed or removed):
            self.on_changes(ChangeBatch(cursor.folder, changed, removed))


def track_changes(
    session: Session,
    store: Store,
    cursor: ImapCursor,
    info: FolderInfo,
    new_uids: int,
    result: FolderResult,
    on_changes: ChangeCallback | None = None,
) -> None:
    """Apply flag changes and removals of the stored UIDs; advance ``highestmodseq``.

    ``new_uids``: how many UIDs above ``cursor.last_uid`` the server listed.
    """
    cursor.uidnext = None  # until the folder is done, it must not be skipped
    if not cursor.last_uid:
        # Nothing stored yet (a new or reset cursor): nothing can have changed, and the
        # cursor is first saved with the first batch (a crash before it redoes the reset).
        return
    apply = _Applier(store, cursor, result, on_changes)
    known = cursor.highestmodseq
    now = info.highestmodseq
    if session.condstore and known is not None and now is not None and now >= known:
        if now != known:
            _since(session, store, cursor, info, known, apply)
        if not session.qresync:
            _expunged_without_qresync(session, store, cursor, info, new_uids, apply)
    else:
        _compare(session, store, cursor, info, apply)
    apply.commit(info.highestmodseq, final=True)


def _since(
    session: Session,
    store: Store,
    cursor: ImapCursor,
    info: FolderInfo,
    known: int,
    apply: _Applier,
) -> None:
    data, vanished = session.changes_since(known, cursor.last_uid, info.exists)
    updates = []
    for uid in sorted(data):
        flags = flags_of(data[uid])
        if flags is not None:
            updates.append(FlagUpdate(uid, flags, modseq_of(data[uid])))
    apply.update(updates)
    for low, high in vanished:  # only UIDs the store has: a range may be huge
        if low <= cursor.last_uid:
            apply.remove(sorted(store.imap_flags(cursor, low, min(high, cursor.last_uid))))


def _expunged_without_qresync(
    session: Session,
    store: Store,
    cursor: ImapCursor,
    info: FolderInfo,
    new_uids: int,
    apply: _Applier,
) -> None:
    """CONDSTORE reports no expunges: list the UIDs only if the counts disagree."""
    if store.count_imap_locations(cursor, cursor.last_uid) == info.exists - new_uids:
        return
    present = set(session.uids_above(0, info.exists))
    stored = store.imap_flags(cursor, 1, cursor.last_uid)
    apply.remove(sorted(uid for uid in stored if uid not in present))


def _compare(
    session: Session, store: Store, cursor: ImapCursor, info: FolderInfo, apply: _Applier
) -> None:
    """Every stored UID against the server: listed in windows, flags in batches."""
    server = [uid for uid in session.uids_above(0, info.exists) if uid <= cursor.last_uid]
    items = (b"FLAGS", b"MODSEQ") if session.condstore else (b"FLAGS",)
    below = 0
    for start in range(0, len(server), FLAGS_BATCH):
        chunk = server[start : start + FLAGS_BATCH]
        stored = store.imap_flags(cursor, below + 1, chunk[-1])
        here = set(chunk)
        apply.remove([uid for uid in sorted(stored) if uid not in here])
        asked = [uid for uid in chunk if uid in stored]
        data: FetchData = session.fetch(asked, items) if asked else {}
        updates = []
        for uid in asked:  # one missing from the reply was expunged meanwhile: next run
            flags = flags_of(data.get(uid, {}))
            modseq = modseq_of(data.get(uid, {}))
            if flags is not None and (flags != stored[uid] or modseq is not None):
                updates.append(FlagUpdate(uid, flags, modseq))
        apply.update(updates)
        below = chunk[-1]
    apply.remove(sorted(store.imap_flags(cursor, below + 1, cursor.last_uid)))
    log.info("%s: compared %d messages in full", cursor.folder, len(server))
