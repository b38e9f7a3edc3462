"""Row <-> model conversion for both backends (SQLite rows; PostgreSQL's dict rows are
read the same way), and the order in which both insert a row's values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ._backend import AssetRow, DocumentRow, FailureRow
from ._flags import split_flags
from ._model import (
    Asset,
    Document,
    DocumentRef,
    ImapCursor,
    Location,
    MatchedIn,
    SourceLocation,
    StoredFailure,
)

__all__ = [
    "asset_from_row",
    "asset_values",
    "cursor_from_row",
    "document_from_row",
    "document_values",
    "failure_from_row",
    "failure_row",
    "flag_columns",
    "location_from_row",
    "recipients_text",
    "ref_from_row",
    "with_matches",
]

_LOCATION_FIELDS = ("path", "offset", "host", "port", "folder", "uid", "uidvalidity")


def document_from_row(
    row: sqlite3.Row,
    locate: Callable[[str], str],
    assets: list[Asset],
    locations: list[Location],
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
        body_html_path=None if row["body_html_path"] is None else locate(row["body_html_path"]),
        raw_path=locate(row["raw_path"]),
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


def asset_from_row(row: sqlite3.Row, locate: Callable[[str], str]) -> Asset:
    return Asset(
        id=row["id"],
        document_id=row["document_id"],
        ordinal=row["ordinal"],
        kind=row["kind"],
        mime_type=row["mime_type"],
        file_path=locate(row["file_path"]),
        cid=row["cid"],
        sha256=row["sha256"],
        filename=row["filename"],
        size=row["size"],
    )


def document_values(row: DocumentRow) -> tuple[Any, ...]:
    """A ``documents`` row's values, in the order both backends insert them."""
    return (
        row.id,
        row.source_kind,
        row.message_id,
        row.thread_id,
        row.subject,
        row.sender_name,
        row.sender_email,
        row.author,
        row.received_at,
        row.published_at,
        row.body_text,
        row.body_html_path,
        row.raw_path,
        row.content_hash,
        row.metadata_json,
        row.created_at,
        row.in_reply_to,
        row.recipients,
        row.headers_hash,
        row.body_hash,
        row.raw_size,
    )


def asset_values(asset: AssetRow) -> tuple[Any, ...]:
    """An ``assets`` row's values, in the order both backends insert them."""
    a = asset
    return (a.id, a.document_id, a.ordinal, a.kind, a.mime_type, a.file_path, a.cid, a.sha256,
            a.filename, a.size)  # fmt: skip


def failure_row(row: sqlite3.Row) -> FailureRow:
    """A whole ``failures`` row (its ``location`` as JSON text)."""
    return FailureRow(
        id=row["id"],
        run_id=row["run_id"],
        kind=row["kind"],
        source=row["source"],
        location=json.loads(row["location"]),
        reason=row["reason"],
        raw_path=row["raw_path"],
        content_hash=row["content_hash"],
        created_at=row["created_at"],
    )


def failure_from_row(row: sqlite3.Row) -> StoredFailure:
    """A ``failures`` row joined with its run's ``kind`` as ``run_kind``."""
    return StoredFailure(
        id=row["id"],
        created_at=row["created_at"],
        run_id=row["run_id"],
        run_kind=row["run_kind"],
        kind=row["kind"],
        source=row["source"],
        error=row["reason"],
        raw_path=row["raw_path"],
    )


def cursor_from_row(row: sqlite3.Row) -> ImapCursor:
    return ImapCursor(
        host=row["host"],
        port=row["port"],
        username=row["username"],
        folder=row["folder"],
        uidvalidity=row["uidvalidity"],
        last_uid=row["last_uid"],
        highestmodseq=row["highestmodseq"],
        uidnext=row["uidnext"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def location_from_row(row: sqlite3.Row) -> Location:
    detail: dict[str, Any] = {}
    for name in _LOCATION_FIELDS:
        value = row[name]
        if value is not None:
            detail[name] = str(value) if name == "uidvalidity" else value
    removed_at = row["removed_at"]
    if row["kind"] == "imap":
        detail["flags"] = _words(row["flags"])
        detail["keywords"] = _words(row["keywords"])
        detail["modseq"] = row["modseq"]
        detail["removed_at"] = removed_at
    return Location(
        kind=row["kind"],
        key=row["key"],
        detail=detail,
        first_seen_at=row["first_seen_at"],
        removed_at=removed_at,
    )


def _words(text: str | None) -> list[str] | None:
    return None if text is None else text.split()


def flag_columns(flags: tuple[str, ...] | None) -> tuple[str | None, str | None]:
    """The ``flags`` and ``keywords`` columns of a location (``None`` while not known)."""
    if flags is None:
        return None, None
    system, keywords = split_flags(flags)
    return " ".join(system), " ".join(keywords)


def location_values(document_id: str, location: SourceLocation, seen_at: str) -> tuple[Any, ...]:
    """A ``locations`` row's values, in the order both backends insert them: document_id,
    kind, key, path, offset, host, port, username, folder, uid, uidvalidity,
    first_seen_at, flags, keywords, modseq."""
    return (
        document_id,
        location.kind,
        location.key(),
        location.path,
        location.offset,
        location.host,
        location.port,
        location.username,
        location.folder,
        location.uid,
        location.uidvalidity,
        seen_at,
        *flag_columns(location.flags),
        location.modseq,
    )


def recipients_text(recipients: Any) -> str:
    """To, Cc and Bcc as the ``recipients`` column keeps them for search.

    ``"Name address"`` per recipient, space-separated: what migration 0005 writes for
    documents stored before it.
    """
    if not isinstance(recipients, dict):
        return ""
    parts = []
    for role in ("to", "cc", "bcc"):
        for entry in recipients.get(role) or ():
            if isinstance(entry, dict):
                text = f"{entry.get('name') or ''} {entry.get('email') or ''}".strip()
                if text:
                    parts.append(text)
    return " ".join(parts)


def with_matches(
    refs: list[DocumentRef], in_body: set[str], in_assets: dict[str, list[str]]
) -> list[DocumentRef]:
    """Search hits saying where they matched: the message itself and/or attachments."""
    out = []
    for ref in refs:
        where: tuple[MatchedIn, ...] = ("body",) if ref.id in in_body else ()
        if ref.id in in_assets:
            where += ("attachment",)
        out.append(
            replace(ref, matched_in=where, matched_asset_ids=tuple(in_assets.get(ref.id, ())))
        )
    return out
