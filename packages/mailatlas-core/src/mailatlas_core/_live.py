"""A living mailbox in a store: flags, MODSEQ and removal of IMAP locations.

The SQL is the same for SQLite and PostgreSQL but for the placeholder (``?``/``%s``) and
the null-safe comparison (``IS NOT``/``IS DISTINCT FROM``); each backend mixes in
:class:`LiveMixin` and provides :meth:`LiveMixin._live` to run one statement. Every
method takes the folder as an :class:`~mailatlas_core._model.ImapCursor` (host, port,
username, folder and UIDVALIDITY say which locations are meant) and is atomic on its
own; the sync wraps them in ``store.transaction()`` with the advanced cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ._dates import utc_now_iso
from ._model import FlagUpdate, ImapCursor
from ._rows import flag_columns

__all__ = ["LiveMixin"]

_CHUNK = 500  # bound the parameters of one statement


def _folder(cursor: ImapCursor) -> list[Any]:
    return [cursor.folder, cursor.host, cursor.port, cursor.username, cursor.uidvalidity]


class LiveMixin:
    """Flags and removals of IMAP locations, for a store or a backend."""

    _P = "?"  # the driver's placeholder
    _DIFFERS = "IS NOT"  # null-safe "is different from"

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the store or backend."""

    def _live(self, sql: str, params: list[Any], what: str) -> list[tuple[Any, ...]]:
        """Abstract (SQLiteBackend, PostgresBackend): run one statement; its rows, if any."""
        raise NotImplementedError

    def _live_many(self, sql: str, rows: list[list[Any]], what: str) -> None:
        """Abstract (SQLiteBackend, PostgresBackend): run one statement per parameter row."""
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql.format(p=self._P, differs=self._DIFFERS)

    def _run(self, sql: str, params: list[Any], what: str) -> list[tuple[Any, ...]]:
        return self._live(self._sql(sql), params, what)

    @property
    def _where_folder(self) -> str:
        p = self._P
        return (
            f"kind = 'imap' AND folder = {p} AND host = {p} AND port = {p} AND username = {p}"
            f" AND uidvalidity = {p} AND removed_at IS NULL"
        )

    def imap_flags(
        self, cursor: ImapCursor, first_uid: int, last_uid: int
    ) -> dict[int, tuple[str, ...] | None]:
        """UID -> stored flags (keywords included, sorted) of the folder's live locations.

        ``None`` for a location whose flags are not known yet (stored before flags were).
        """
        rows = self._run(
            f"SELECT uid, flags, keywords FROM locations WHERE {self._where_folder}"
            " AND uid BETWEEN {p} AND {p}",
            [*_folder(cursor), first_uid, last_uid],
            "cannot read the store",
        )
        out: dict[int, tuple[str, ...] | None] = {}
        for uid, flags, keywords in rows:
            if flags is None:
                out[int(uid)] = None
            else:
                out[int(uid)] = tuple(sorted([*flags.split(), *(keywords or "").split()]))
        return out

    def count_imap_locations(self, cursor: ImapCursor, last_uid: int) -> int:
        """How many live locations the folder has at or below ``last_uid``."""
        rows = self._run(
            f"SELECT count(*) FROM locations WHERE {self._where_folder} AND uid <= {{p}}",
            [*_folder(cursor), last_uid],
            "cannot read the store",
        )
        return int(rows[0][0])

    def update_flags(self, cursor: ImapCursor, updates: Iterable[FlagUpdate]) -> list[str]:
        """Record the current flags and MODSEQ of live locations by UID.

        Returns the ids of the documents whose flags changed (a new MODSEQ alone is
        recorded but not counted as a change). Reads the stored values in one query per
        500 UIDs and writes only what differs, in one batch.
        """
        wanted = {u.uid: u for u in updates}
        uids = sorted(wanted)
        changed: list[str] = []
        writes: list[list[Any]] = []
        with self.transaction():
            for start in range(0, len(uids), _CHUNK):
                chunk = uids[start : start + _CHUNK]
                marks = ",".join(["{p}"] * len(chunk))
                stored = self._run(
                    "SELECT uid, document_id, flags, keywords, modseq FROM locations"
                    f" WHERE {self._where_folder} AND uid IN ({marks})",
                    [*_folder(cursor), *chunk],
                    "cannot read the store",
                )
                for uid, doc, flags, keywords, modseq in stored:
                    u = wanted[int(uid)]
                    new_flags, new_keywords = flag_columns(u.flags)
                    new_modseq = modseq if u.modseq is None else u.modseq
                    if (new_flags, new_keywords) != (flags, keywords):
                        changed.append(str(doc))
                    elif new_modseq == modseq:
                        continue
                    writes.append([new_flags, new_keywords, new_modseq, *_folder(cursor), uid])
            if writes:
                self._live_many(
                    self._sql(
                        "UPDATE locations SET flags = {p}, keywords = {p}, modseq = {p}"
                        f" WHERE {self._where_folder} AND uid = {{p}}"
                    ),
                    writes,
                    "cannot record flags",
                )
        return changed

    def mark_removed(self, cursor: ImapCursor, uids: Iterable[int]) -> list[str]:
        """Mark the folder's live locations with these UIDs removed (now).

        Returns the ids of the documents that lost a location.
        """
        now = utc_now_iso()
        wanted = sorted(set(uids))
        found: list[str] = []
        with self.transaction():
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join(["{p}"] * len(chunk))
                rows = self._run(
                    f"UPDATE locations SET removed_at = {{p}} WHERE {self._where_folder}"
                    f" AND uid IN ({marks}) RETURNING document_id",
                    [now, *_folder(cursor), *chunk],
                    "cannot record removed messages",
                )
                found.extend(str(r[0]) for r in rows)
        return found

    def retire_uidvalidity(self, cursor: ImapCursor) -> list[str]:
        """Mark removed every live location of the folder under another UIDVALIDITY.

        After a UIDVALIDITY change the old UIDs name nothing; the rescan gives each
        message still there a new location. Returns the ids of the documents affected.
        """
        with self.transaction():
            rows = self._run(
                "UPDATE locations SET removed_at = {p} WHERE kind = 'imap' AND folder = {p}"
                " AND host = {p} AND port = {p} AND username = {p}"
                " AND uidvalidity {differs} {p} AND removed_at IS NULL RETURNING document_id",
                [utc_now_iso(), *_folder(cursor)],
                "cannot record removed messages",
            )
        return [str(r[0]) for r in rows]

    def deleted_on_server(self, host: str, port: int, username: str) -> list[str]:
        """Documents of this mailbox whose every location is removed (by id)."""
        rows = self._run(
            "SELECT DISTINCT l.document_id FROM locations l"
            " WHERE l.kind = 'imap' AND l.host = {p} AND l.port = {p} AND l.username = {p}"
            " AND l.removed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM locations o"
            " WHERE o.document_id = l.document_id AND o.removed_at IS NULL)"
            " ORDER BY l.document_id",
            [host, port, username],
            "cannot read the store",
        )
        return [str(r[0]) for r in rows]

    def live_imap_flags(self, document_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
        """Document id -> folder -> flags (keywords included, sorted) of its live IMAP
        locations whose flags are known; documents with none are left out."""
        ids = sorted(set(document_ids))
        out: dict[str, dict[str, list[str]]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join(["{p}"] * len(chunk))
            rows = self._run(
                "SELECT document_id, folder, flags, keywords FROM locations"
                f" WHERE kind = 'imap' AND removed_at IS NULL AND flags IS NOT NULL"
                f" AND document_id IN ({marks}) ORDER BY document_id, folder, uid",
                chunk,
                "cannot read the store",
            )
            for doc, folder, flags, keywords in rows:
                words = sorted({*flags.split(), *(keywords or "").split()})
                folders = out.setdefault(str(doc), {})
                folders[str(folder)] = sorted({*folders.get(str(folder), []), *words})
        return out
