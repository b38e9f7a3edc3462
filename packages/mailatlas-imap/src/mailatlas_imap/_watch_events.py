"""The document events of a watch: ``new``, ``changed``, ``moved`` and ``removed``.

The folder sync reports what it applied as document ids (:class:`~.result.FolderResult`,
:class:`~._changes.ChangeBatch`); this module turns them into :class:`WatchEvent`
objects with what the store now says of each document (its subject, the flags of its
location, whether any location is left).

A move has two halves in two folders (gone from one, arrived in the other) that the
server reports on two connections, in either order. The watch applies every other
folder in the same round as soon as one half shows (:meth:`Changes.add` returns true),
and pairs the round's removals with its arrivals when the round ends
(:meth:`Changes.settle`, by :func:`~.result.pair_moves`, the rule ``sync imap`` counts
moves by).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailatlas_core import Document, DocumentNotFoundError, Store

from ._changes import ChangeBatch
from ._result import FolderResult, pair_moves

__all__ = ["REMEMBERED", "Changes", "WatchEvent"]

REMEMBERED = 10_000  # unpaired arrivals kept for a later removal (a move's first half)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One document that changed: ``new`` (stored now), ``changed``, ``moved``, ``removed``.

    ``changed`` (flags or keywords) carries the location's ``flags`` and ``keywords``
    now; ``moved`` names the folder it left (``from``; ``folder`` is where it is now);
    ``removed`` says whether the document has any location left (``deleted_on_server``).
    Status lines share the shape (``synced`` after the first sync, ``watching`` once the
    listeners wait, ``stopped`` at the end) with ``detail`` instead of a document.
    """

    event: str
    at: str
    folder: str | None = None
    id: str | None = None
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``mailatlas watch imap`` prints on one line."""
        out: dict[str, Any] = {"event": self.event, "at": self.at}
        if self.id is not None:
            out.update(folder=self.folder, id=self.id, subject=self.subject)
        out.update(self.detail)
        return out


class Changes:
    """Removals and arrivals of the folders applied since the last :meth:`settle`.

    An arrival no removal matched is remembered (up to :data:`REMEMBERED` of them): the
    server may show the copy a move made before it expunges the original, and the
    removal, applied in a later round, is still told as the move it is.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entries: list[FolderResult] = []
        self.arrivals: dict[str, str] = {}  # document id -> folder, oldest first

    def changed(self, batch: ChangeBatch, at: str) -> list[WatchEvent]:
        """One ``changed`` event per document of a committed batch of flag changes."""
        events = []
        for doc_id in dict.fromkeys(batch.flags_changed):
            doc = self._document(doc_id)
            flags = _flags_in(doc, batch.folder) if doc is not None else {}
            events.append(WatchEvent("changed", at, batch.folder, doc_id, _subject(doc), flags))
        return events

    def add(self, entry: FolderResult) -> bool:
        """Keep a folder's removals and arrivals; true if it has any (half of a move?)."""
        if not (entry.removed_ids or entry.arrived_ids):
            return False
        self.entries.append(entry)
        return True

    def settle(self, at: str) -> list[WatchEvent]:
        """The ``moved`` and ``removed`` events of what was kept; forget it."""
        moves, removals = pair_moves(self.entries)
        paired = {doc_id for doc_id, _, _ in moves}
        for doc_id in paired:
            self.arrivals.pop(doc_id, None)
        for entry in self.entries:
            for doc_id in sorted(entry.arrived_ids - paired):
                self.arrivals.pop(doc_id, None)
                self.arrivals[doc_id] = entry.folder
        self.entries = []
        events = []
        for doc_id, left, arrived in moves:
            doc = self._document(doc_id)
            events.append(WatchEvent("moved", at, arrived, doc_id, _subject(doc), {"from": left}))
        for doc_id, folder in dict.fromkeys(removals):
            doc = self._document(doc_id)
            went = self.arrivals.pop(doc_id, None)
            if doc is not None and went not in (None, folder) and _live_in(doc, went):
                detail: dict[str, Any] = {"from": folder}
                events.append(WatchEvent("moved", at, went, doc_id, doc.subject, detail))
                continue
            detail = {"deleted_on_server": doc is None or doc.deleted_on_server}
            events.append(WatchEvent("removed", at, folder, doc_id, _subject(doc), detail))
        while len(self.arrivals) > REMEMBERED:
            del self.arrivals[next(iter(self.arrivals))]
        return events

    def _document(self, doc_id: str) -> Document | None:
        try:
            return self.store.get_document(doc_id)
        except DocumentNotFoundError:  # deleted since (mailatlas delete, another run)
            return None


def _subject(doc: Document | None) -> str | None:
    return None if doc is None else doc.subject


def _live_in(doc: Document, folder: str | None) -> bool:
    return any(_live_locations(doc, folder))


def _live_locations(doc: Document, folder: str | None) -> list[dict[str, Any]]:
    """The details of the document's live IMAP locations in ``folder``."""
    return [
        loc.detail
        for loc in doc.locations
        if loc.kind == "imap" and loc.removed_at is None and loc.detail.get("folder") == folder
    ]


def _flags_in(doc: Document, folder: str) -> dict[str, Any]:
    """The flags and keywords of the document's live IMAP location in ``folder``."""
    live = _live_locations(doc, folder) or [{}]
    return {"flags": live[0].get("flags"), "keywords": live[0].get("keywords")}
