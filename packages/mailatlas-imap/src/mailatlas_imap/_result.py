"""What a sync run reports: :class:`SyncResult` and one :class:`FolderResult` per folder.

``SyncResult.to_dict()`` is exactly what ``mailatlas sync imap`` prints (SPEC §2). The
seed's field names are a contract; extra fields are added after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from mailatlas_core import DocumentRef

__all__ = ["FolderResult", "Move", "Status", "SyncInterrupted", "SyncResult", "pair_moves"]

Status = Literal["ok", "partial", "error", "interrupted"]
Move = tuple[str, str, str]
"""(document id, folder it left, folder it arrived in)."""


@dataclass(slots=True)
class FolderResult:
    """The outcome for one folder.

    ``status`` is ``"ok"``, ``"partial"`` (some messages were recorded as failures) or
    ``"error"`` (the folder could not be synced to the end; ``error`` says why, and
    everything committed before that stays stored). ``fetched_count`` counts the new
    messages seen (ingested + duplicates + failures); ``downloaded_count`` how many of
    them had their bodies downloaded (stored ones are recognised from their Message-ID).
    ``unchanged`` is true when the folder was skipped because nothing changed.

    Changes to messages stored before: ``flag_change_count`` locations whose flags or
    keywords changed; ``removed_count`` messages gone from the folder (expunged, or moved
    to a folder this run does not sync); ``moved_count`` messages that arrived here from
    another folder of this run (a move: one document, its location changed).
    """

    folder: str
    status: Status = "ok"
    uidvalidity: str | None = None
    last_uid: int = 0
    fetched_count: int = 0
    ingested_count: int = 0
    duplicate_count: int = 0
    failed_count: int = 0
    downloaded_count: int = 0
    unchanged: bool = False
    uidvalidity_reset: bool = False
    retries: int = 0
    document_refs: list[DocumentRef] = field(default_factory=list)
    error: str | None = None
    flag_change_count: int = 0
    removed_count: int = 0
    moved_count: int = 0
    removed_ids: list[str] = field(default_factory=list, repr=False)  # one per location
    arrived_ids: set[str] = field(default_factory=set, repr=False)  # gained a location here

    def fail(self, message: str) -> None:
        self.status = "error"
        self.error = message

    def finish(self) -> None:
        """Settle the status once the folder is done (same rule as file ingest)."""
        if self.status != "ok" or not self.failed_count:
            return
        if self.ingested_count or self.duplicate_count:
            self.status = "partial"
        else:  # nothing succeeded: every message was kept as a failure
            self.fail(f"all {self.failed_count} new message(s) failed; kept as failures")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FolderResult:
        """The inverse of :meth:`to_dict` (a worker's summary read back by its parent)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["document_refs"] = [DocumentRef(**r) for r in data.get("document_refs", [])]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "status": self.status,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "fetched_count": self.fetched_count,
            "ingested_count": self.ingested_count,
            "duplicate_count": self.duplicate_count,
            # The shape `ingest` and `list` print too: the seed's four fields first.
            "document_refs": [ref.to_dict() for ref in self.document_refs],
            "error": self.error,
            "failed_count": self.failed_count,
            "downloaded_count": self.downloaded_count,
            "unchanged": self.unchanged,
            "uidvalidity_reset": self.uidvalidity_reset,
            "retries": self.retries,
            "flag_change_count": self.flag_change_count,
            "removed_count": self.removed_count,
            "moved_count": self.moved_count,
        }


@dataclass(slots=True)
class SyncResult:
    """The outcome of :func:`~mailatlas_imap.sync_imap` over every folder.

    ``status``: ``"ok"`` when every folder is ok, ``"error"`` when no folder could be
    synced, ``"interrupted"`` when Ctrl-C stopped the run (the counts are what was
    committed), else ``"partial"``. ``error_count`` counts folders in error;
    ``failed_count`` messages recorded as failures; ``retries`` every reconnect.
    """

    host: str
    port: int
    auth: str
    folders: list[FolderResult] = field(default_factory=list)
    duration_s: float = 0.0
    run_id: int | None = None
    interrupted: bool = False
    connect_retries: int = 0
    pruned: list[str] | None = None  # ids deleted by ``prune``; None when not asked

    def settle_moves(self) -> None:
        """Tell moves from removals across the folders of the run (:func:`pair_moves`).

        A document that lost its location in one folder and gained one in another is a
        move: counted in ``moved_count`` where it arrived, not in ``removed_count``.
        """
        moves, removals = pair_moves(self.folders)
        for entry in self.folders:
            entry.removed_count = sum(1 for _, folder in removals if folder == entry.folder)
            entry.moved_count = len({d for d, _, to in moves if to == entry.folder})

    @property
    def status(self) -> Status:
        if self.interrupted:
            return "interrupted"
        if not self.folders or all(f.status == "ok" for f in self.folders):
            return "ok"
        if all(f.status == "error" for f in self.folders):
            return "error"
        return "partial"

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.folders if f.status == "error")

    @property
    def fetched_count(self) -> int:
        return sum(f.fetched_count for f in self.folders)

    @property
    def ingested_count(self) -> int:
        return sum(f.ingested_count for f in self.folders)

    @property
    def duplicate_count(self) -> int:
        return sum(f.duplicate_count for f in self.folders)

    @property
    def failed_count(self) -> int:
        return sum(f.failed_count for f in self.folders)

    @property
    def retries(self) -> int:
        """Reconnects in all: before the first login and during every folder."""
        return self.connect_retries + sum(f.retries for f in self.folders)

    @property
    def document_refs(self) -> list[DocumentRef]:
        """Every document new in this run, folder by folder."""
        return [r for f in self.folders for r in f.document_refs]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``mailatlas sync imap`` prints."""
        return {
            "status": self.status,
            "host": self.host,
            "port": self.port,
            "auth": self.auth,
            "folder_count": len(self.folders),
            "error_count": self.error_count,
            "fetched_count": self.fetched_count,
            "ingested_count": self.ingested_count,
            "duplicate_count": self.duplicate_count,
            "folders": [f.to_dict() for f in self.folders],
            "failed_count": self.failed_count,
            "duration_s": round(self.duration_s, 3),
            "run_id": self.run_id,
            "retries": self.retries,
            **(
                {}
                if self.pruned is None
                else {"pruned_count": len(self.pruned), "pruned": list(self.pruned)}
            ),
        }


class SyncInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sync; ``result`` holds what was committed before it.

    A ``KeyboardInterrupt``, so a program that does not look for it stops as usual.
    """

    def __init__(self, result: SyncResult) -> None:
        super().__init__(f"interrupted: {result.ingested_count} stored")
        self.result = result


def pair_moves(folders: Sequence[FolderResult]) -> tuple[list[Move], list[tuple[str, str]]]:
    """The moves among these folders' changes, and the removals that are not moves.

    A document removed from one folder that arrived in another (a location added to a
    stored document) moved there. A removed document that arrived nowhere is a removal
    ``(document id, folder)``, one per location; one that arrived back in its own folder
    is neither. Moves are distinct and in the order of the folders.
    """
    arrived: dict[str, list[str]] = {}
    for entry in folders:
        for doc in sorted(entry.arrived_ids):
            arrived.setdefault(doc, []).append(entry.folder)
    moves: dict[Move, None] = {}
    removals: list[tuple[str, str]] = []
    for entry in folders:
        for doc in entry.removed_ids:
            if doc not in arrived:
                removals.append((doc, entry.folder))
                continue
            for to in arrived[doc]:
                if to != entry.folder:
                    moves[(doc, entry.folder, to)] = None
    return list(moves), removals
