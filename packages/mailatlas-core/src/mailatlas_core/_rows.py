"""Row <-> model conversion and the ``list`` query builder for the SQLite backend."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .model import Asset, Document, DocumentRef, Location
from .store import ListFilter
from .workspace import Workspace

__all__ = [
    "COMMON_QUERY_THRESHOLD",
    "asset_from_row",
    "document_from_row",
    "fts_query",
    "list_query",
    "location_from_row",
    "ref_from_row",
]

# Above this many matches, walking the date index beats sorting the matches.
COMMON_QUERY_THRESHOLD = 5000

_LOCATION_FIELDS = ("path", "offset", "host", "port", "folder", "uid", "uidvalidity")


def document_from_row(
    row: sqlite3.Row, ws: Workspace, assets: list[Asset], locations: list[Location]
) -> Document:
    return Document(
        id=row["id"],
        source_kind=row["source_kind"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        subject=row["subject"],
        sender_name=row["sender_name"],
        sender_email=row["sender_email"],
        author=row["author"],
        received_at=row["received_at"],
        published_at=row["published_at"],
        body_text=row["body_text"],
        body_html_path=ws.absolute(row["body_html_path"]),
        raw_path=str(ws.absolute(row["raw_path"])),
        content_hash=row["content_hash"],
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
        assets=tuple(assets),
        locations=tuple(locations),
    )


def ref_from_row(row: sqlite3.Row) -> DocumentRef:
    return DocumentRef(
        id=row["id"],
        subject=row["subject"],
        source_kind=row["source_kind"],
        created_at=row["created_at"],
        sender_email=row["sender_email"],
        received_at=row["received_at"],
    )


def asset_from_row(row: sqlite3.Row, ws: Workspace) -> Asset:
    return Asset(
        id=row["id"],
        document_id=row["document_id"],
        ordinal=row["ordinal"],
        kind=row["kind"],
        mime_type=row["mime_type"],
        file_path=str(ws.absolute(row["file_path"])),
        cid=row["cid"],
        sha256=row["sha256"],
        filename=row["filename"],
        size=row["size"],
    )


def location_from_row(row: sqlite3.Row) -> Location:
    detail: dict[str, Any] = {}
    for name in _LOCATION_FIELDS:
        value = row[name]
        if value is not None:
            detail[name] = str(value) if name == "uidvalidity" else value
    return Location(
        kind=row["kind"], key=row["key"], detail=detail, first_seen_at=row["first_seen_at"]
    )


def fts_query(text: str) -> str:
    """Turn user text into an FTS5 query: every word must match, no operator surprises."""
    words = [w for w in text.split() if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def list_query(flt: ListFilter, *, common_query: bool = False) -> tuple[str, list[Any]]:
    """Build the SQL for ``list``: newest first, then filters, then paging.

    A search term that matches few documents is answered from the full-text index and
    sorted (cheap). One that matches a large part of the store (``common_query``) is
    answered by walking the date index newest-first and keeping matching rows, which
    stops after one page instead of sorting every match.
    """
    where: list[str] = []
    params: list[Any] = []
    source = "documents d"
    if flt.query and fts_query(flt.query):
        if common_query:
            source = "documents d INDEXED BY documents_newest"
            where.append("d.seq IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
        else:
            source = "documents_fts f JOIN documents d ON d.seq = f.rowid"
            where.append("documents_fts MATCH ?")
        params.append(fts_query(flt.query))
    if flt.since:
        where.append("d.received_at >= ?")
        params.append(flt.since)
    if flt.until:
        where.append("d.received_at < ?")
        params.append(flt.until)
    if flt.sender:
        where.append("(d.sender_email = ? COLLATE NOCASE OR d.sender_name = ? COLLATE NOCASE)")
        params.extend([flt.sender, flt.sender])
    if flt.source_kind:
        where.append("d.source_kind = ?")
        params.append(flt.source_kind)
    if flt.folder:
        where.append(
            "EXISTS (SELECT 1 FROM locations l WHERE l.document_id = d.id AND l.folder = ?)"
        )
        params.append(flt.folder)
    if flt.thread_id:
        where.append("d.thread_id = ?")
        params.append(flt.thread_id)
    sql = (
        "SELECT d.id, d.subject, d.source_kind, d.created_at, d.sender_email, d.received_at"
        f" FROM {source}"
        + (" WHERE " + " AND ".join(where) if where else "")
        # SQLite sorts NULL lowest, so undated documents come last without a NULL test
        # (which would keep the date index from serving the ORDER BY).
        + " ORDER BY d.received_at DESC, d.created_at DESC"
        " LIMIT ? OFFSET ?"
    )
    params.extend([max(0, flt.limit), max(0, flt.offset)])
    return sql, params
