"""Which stored document a message is, if any: the dedupe rule of the SQLite store.

A message is a copy of a stored document when it has the same raw bytes, or the same
Message-ID *and* the same :class:`~mailatlas_core.ids.Fingerprint` (Date, From, Subject
and body). A Message-ID alone proves nothing: anyone can send a message with someone
else's. Two different messages with one Message-ID are both stored and linked through
``metadata.message_id_conflict``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from ._sqlite_conn import db_error, dumps
from .blobs import LocalBlobStore
from .errors import StoreError
from .ids import Fingerprint, content_hash, fingerprint, header_block, headers_hash

__all__ = ["IdentityMixin", "Match"]

Match = tuple[str | None, list[str]]
"""The stored copy of a message (or None), and the other documents with its Message-ID."""


class IdentityMixin:
    """Dedupe lookups, mixed into :class:`~mailatlas_core.sqlite_store.SQLiteStore`."""

    _conn: sqlite3.Connection
    blobs: LocalBlobStore

    def known(self, message_id: str | None, raw: bytes) -> str | None:
        """The id of the stored copy of ``raw`` (same bytes, or same Message-ID and
        fingerprint), else ``None``. Cheap: no parse; the fingerprint is only taken when
        a document with this Message-ID but other bytes is stored."""
        try:
            return self._match(message_id, content_hash(raw), lambda: fingerprint(raw))[0]
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc

    def known_copies(
        self, heads: Iterable[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], str]:
        """Which messages, seen only by their headers, are stored copies (no body needed).

        ``heads`` holds (normalised Message-ID, :func:`~mailatlas_core.ids.headers_hash`
        of Date, From and Subject, size in bytes). One maps to a stored document only when
        that document has the same Message-ID, headers hash and raw size; anything else
        must be downloaded and compared in full.
        """
        wanted = set(heads)
        ids = list(dict.fromkeys(mid for mid, _, _ in wanted))
        found: dict[tuple[str, str, int], str] = {}
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT message_id, id, headers_hash, raw_size, raw_path FROM documents"
                    f" WHERE message_id IN ({marks}) ORDER BY seq",
                    chunk,
                ).fetchall()
                for row in rows:
                    stored = self._stored_head(row)
                    key = None if stored is None else (row["message_id"], *stored)
                    if key in wanted:
                        found.setdefault(key, row["id"])
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return found

    def _match(
        self, message_id: str | None, raw_hash: str, print_of: Callable[[], Fingerprint]
    ) -> Match:
        row = self._conn.execute(
            "SELECT id FROM documents WHERE content_hash = ?", (raw_hash,)
        ).fetchone()
        if row is not None:
            return str(row[0]), []
        if not message_id:
            return None, []
        rows = self._conn.execute(
            "SELECT id, headers_hash, body_hash, raw_path FROM documents WHERE message_id = ?"
            " ORDER BY seq",
            (message_id,),
        ).fetchall()
        if not rows:
            return None, []
        mine = print_of()
        for r in rows:
            if self._stored_print(r) == mine:
                return str(r["id"]), []
        return None, [str(r["id"]) for r in rows]

    def _stored_print(self, row: sqlite3.Row) -> Fingerprint | None:
        if row["headers_hash"] and row["body_hash"]:
            return Fingerprint(row["headers_hash"], row["body_hash"])
        raw = self._stored_raw(row["raw_path"])  # a row stored before fingerprints
        return None if raw is None else fingerprint(raw)

    def _stored_head(self, row: sqlite3.Row) -> tuple[str, int] | None:
        if row["headers_hash"] and row["raw_size"] is not None:
            return row["headers_hash"], int(row["raw_size"])
        raw = self._stored_raw(row["raw_path"])
        return None if raw is None else (headers_hash(header_block(raw)), len(raw))

    def _stored_raw(self, raw_path: str) -> bytes | None:
        try:
            return self.blobs.get(raw_path)
        except StoreError:
            return None  # a damaged store: treat as a different message, lose nothing

    def _link_conflict(self, new_id: str, message_id: str, others: Iterable[str]) -> None:
        """Add ``new_id`` to ``metadata.message_id_conflict`` of the earlier documents."""
        import logging  # not at import time: `list` and `show` never load it (start-up)

        others = list(others)
        logging.getLogger("mailatlas_core").warning(
            "two different messages share the Message-ID <%s>: stored %s beside %s",
            message_id,
            new_id,
            ", ".join(others),
        )
        for other in others:
            row = self._conn.execute(
                "SELECT metadata FROM documents WHERE id = ?", (other,)
            ).fetchone()
            metadata: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
            metadata["message_id_conflict"] = conflict_metadata(
                message_id, [*_linked(metadata), new_id]
            )
            self._conn.execute(
                "UPDATE documents SET metadata = ? WHERE id = ?", (dumps(metadata), other)
            )


def conflict_metadata(message_id: str, documents: Iterable[str]) -> dict[str, Any]:
    """The ``metadata.message_id_conflict`` block: the other documents with this Message-ID."""
    return {"message_id": message_id, "documents": list(dict.fromkeys(documents))}


def _linked(metadata: dict[str, Any]) -> list[str]:
    block = metadata.get("message_id_conflict")
    docs = block.get("documents") if isinstance(block, dict) else None
    return [str(d) for d in docs] if isinstance(docs, list) else []
