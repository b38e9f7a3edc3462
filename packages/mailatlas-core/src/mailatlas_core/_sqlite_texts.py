"""Attachment text in the SQLite store: rows, their search index, and search hits that
say where they matched (the message itself or an attachment)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._errors import DocumentNotFoundError
from ._model import Asset, AssetData, AssetText, DocumentRef
from ._rows import asset_from_row, with_matches
from ._sqlite_conn import db_error

__all__ = ["TextsMixin"]

_SUMMARY = "status, chars, truncated, error, extractor"


def _text_from_row(row: sqlite3.Row, *, with_text: bool) -> AssetText:
    return AssetText(
        status=row["status"],
        text=row["text"] if with_text else None,
        chars=row["chars"],
        truncated=bool(row["truncated"]),
        error=row["error"],
        extractor=row["extractor"],
    )


def _keep(key: str) -> str:
    return key


class TextsMixin:
    """Attachment text rows of :class:`~mailatlas_core._sqlite_backend.SQLiteBackend`."""

    _conn: sqlite3.Connection
    # asset_texts rows with a larger seq were added in the open transaction and are not
    # yet in the full-text index (see _index_new_texts); None when there are none.
    _texts_unindexed_after: int | None = None

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]:
            """Provided by the backend."""

    def _insert_texts(
        self, document_id: str, assets: Sequence[AssetData | AssetText], ids: list[str]
    ) -> None:
        for asset, asset_id in zip(assets, ids, strict=True):
            text = asset if isinstance(asset, AssetText) else asset.text
            if text is None:
                continue
            cursor = self._conn.execute(
                "INSERT INTO asset_texts (asset_id, document_id, status, chars, truncated, error,"
                " extractor, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    asset_id,
                    document_id,
                    text.status,
                    text.chars,
                    int(text.truncated),
                    text.error,
                    text.extractor,
                    # Lone surrogates cannot be stored; the rest of the text can.
                    (text.text or "").encode("utf-8", "replace").decode("utf-8"),
                ),
            )
            if self._texts_unindexed_after is None and cursor.lastrowid is not None:
                self._texts_unindexed_after = cursor.lastrowid - 1

    def _index_new_texts(self) -> None:
        """Index this transaction's new attachment texts (just before COMMIT)."""
        after, self._texts_unindexed_after = self._texts_unindexed_after, None
        if after is not None:
            self._conn.execute(
                "INSERT INTO asset_texts_fts (rowid, text)"
                " SELECT seq, text FROM asset_texts WHERE seq > ? AND text != ''",
                (after,),
            )

    def _with_texts(self, document_id: str, assets: list[Asset]) -> list[Asset]:
        """``assets`` with their text summaries (not the text itself)."""
        rows = {
            r["asset_id"]: r
            for r in self._conn.execute(
                f"SELECT asset_id, {_SUMMARY} FROM asset_texts WHERE document_id = ?",
                (document_id,),
            )
        }
        return [
            replace(a, text=_text_from_row(rows[a.id], with_text=False)) if a.id in rows else a
            for a in assets
        ]

    def get_asset(self, asset_id: str) -> Asset:
        """One asset with its extracted text (``asset.text.text``), if it has any
        (``file_path`` is its blob key).

        Raises:
            DocumentNotFoundError: there is no asset with this id.
        """
        try:
            row = self._conn.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
            if row is None:
                raise DocumentNotFoundError(
                    f"no attachment with id {asset_id!r}; `mailatlas show ID` lists them"
                )
            asset = asset_from_row(row, _keep)
            text = self._conn.execute(
                f"SELECT {_SUMMARY}, text FROM asset_texts WHERE asset_id = ?", (asset_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return replace(asset, text=_text_from_row(text, with_text=True)) if text else asset

    def assets_without_text(self, limit: int = 100) -> list[Asset]:
        """Assets with no text reading (stored before MailAtlas read attachment text)."""
        try:
            rows = self._conn.execute(
                "SELECT * FROM assets a WHERE NOT EXISTS"
                " (SELECT 1 FROM asset_texts t WHERE t.asset_id = a.id)"
                " ORDER BY a.document_id, a.ordinal LIMIT ?",
                (max(0, limit),),
            ).fetchall()
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot read the store") from exc
        return [asset_from_row(r, _keep) for r in rows]

    def save_asset_text(self, asset_id: str, text: AssetText) -> None:
        """Record the text read from a stored asset that has none yet (else nothing)."""
        try:
            with self.transaction():
                row = self._conn.execute(
                    "SELECT document_id FROM assets WHERE id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM asset_texts t WHERE t.asset_id = ?)",
                    (asset_id, asset_id),
                ).fetchone()
                if row is not None:
                    self._insert_texts(row[0], [text], [asset_id])
        except sqlite3.Error as exc:
            raise db_error(exc, "cannot store attachment text") from exc

    def _annotate(self, refs: list[DocumentRef], match: str) -> list[DocumentRef]:
        """Say for each search hit whether the message, its attachments, or both matched."""
        if not refs:
            return refs
        ids = [r.id for r in refs]
        marks = ",".join("?" * len(ids))
        in_body: set[str] = set()
        # One indexed lookup per hit (FTS5 seeks by rowid), never the whole match list.
        for row in self._conn.execute(f"SELECT id, seq FROM documents WHERE id IN ({marks})", ids):
            hit = self._conn.execute(
                "SELECT 1 FROM documents_fts WHERE documents_fts MATCH ? AND rowid = ?",
                (match, row[1]),
            ).fetchone()
            if hit:
                in_body.add(row[0])
        in_assets: dict[str, list[str]] = {}
        texts: list[Any] = self._conn.execute(
            f"SELECT seq, asset_id, document_id FROM asset_texts WHERE document_id IN ({marks})"
            " AND text != '' ORDER BY asset_id",
            ids,
        ).fetchall()
        for seq, asset_id, document_id in texts:
            hit = self._conn.execute(
                "SELECT 1 FROM asset_texts_fts WHERE asset_texts_fts MATCH ? AND rowid = ?",
                (match, seq),
            ).fetchone()
            if hit:
                in_assets.setdefault(document_id, []).append(asset_id)
        return with_matches(refs, in_body, in_assets)
