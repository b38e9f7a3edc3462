"""What each MCP tool does, over the :class:`~mailatlas_cli.MailAtlas` facade.

Plain functions from arguments to a :class:`Result` (the data, framed later as
untrusted mail, and trusted paging facts), so they can be read and tested without the
MCP machinery. Paging uses opaque cursors: ``"o:<offset>"`` for lists and
``"c:<character offset>"`` for long texts; a text is never cut without a cursor to the
rest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from mailatlas_core import Asset, Document, InvalidFilterError

from .._atlas import MailAtlas
from .._export import EXPORT_EXTENSIONS, ExportFormat
from .._export._common import header_of
from ._framing import bounded

__all__ = [
    "ASSETS_PAGE",
    "BODY_CHARS_DEFAULT",
    "BODY_CHARS_MAX",
    "Result",
    "export_document",
    "get_attachment",
    "get_document",
    "get_thread",
    "list_folders",
    "search",
    "stats",
    "store_source",
]

BODY_CHARS_DEFAULT = 20_000
BODY_CHARS_MAX = 50_000
THREAD_PAGE = 100
SEARCH_MAX = 100
ASSETS_PAGE = 100
FOLDERS_PAGE = 100
# get_thread gives the reply tree only when its JSON stays under this (a thread of 100
# messages can hold thousands of placeholder nodes for the messages they answer).
TREE_CHARS_MAX = 100_000


@dataclass(slots=True)
class Result:
    """A tool's answer: ``data`` (mail content, framed as untrusted) and ``trusted``
    facts MailAtlas states itself (paging), plus where the data comes from."""

    source: str
    data: Any
    trusted: dict[str, Any] = field(default_factory=dict)
    #: Top-level keys of ``data`` holding a text the tool pages itself (a body): the
    #: frame leaves them whole, and cuts every other long string or list it holds.
    paged: tuple[str, ...] = ()


def _offset(cursor: str | None, kind: str) -> int:
    if not cursor:
        return 0
    prefix, _, number = cursor.partition(":")
    if prefix != kind or not number.isdigit():
        raise InvalidFilterError(
            f"cursor {cursor[:40]!r} is not one this tool gave out; pass the next_cursor "
            "of its previous result, or none to start"
        )
    return int(number)


def store_source(atlas: MailAtlas) -> str:
    where = os.fspath(atlas.db_path) if atlas.db_path is not None else "handed in"
    return f"mailatlas store {where}"


def search(
    atlas: MailAtlas, *, limit: int = 20, cursor: str | None = None, **filters: Any
) -> Result:
    """Document refs, newest first, matching every filter given (those of
    :meth:`MailAtlas.list_documents`); paged."""
    offset = _offset(cursor, "o")
    filters["query"] = filters.get("query") or None
    refs = atlas.list_documents(limit=limit + 1, offset=offset, **filters)
    more = len(refs) > limit
    refs = refs[:limit]
    rows = [ref.to_dict() for ref in refs]
    trusted: dict[str, Any] = {
        "returned": len(rows),
        "offset": offset,
        "next_cursor": f"o:{offset + limit}" if more else None,
    }
    return Result(store_source(atlas), {"documents": rows}, trusted)


def _headers(document: Document) -> dict[str, Any]:
    header = header_of(document)
    meta = document.metadata
    return {
        "subject": header.subject,
        "from": header.sender,
        "to": header.to,
        "cc": header.cc,
        "date": header.date,
        "message_id": document.message_id,
        "in_reply_to": meta["in_reply_to"],
        "references": meta["references"],
    }


def _asset(asset: Asset) -> dict[str, Any]:
    text = asset.text
    return {
        "id": asset.id,
        "filename": asset.filename,
        "mime_type": asset.mime_type,
        "kind": asset.kind,
        "size": asset.size,
        "sha256": asset.sha256,
        # Whether get_attachment has text for it (ok), or why not (the reason, if any).
        "text_status": text.status if text else None,
        "text_chars": text.chars if text else 0,
        "text_error": text.error if text else None,
    }


def _page_text(text: str, offset: int, max_chars: int) -> tuple[str, dict[str, Any]]:
    if offset > len(text):
        raise InvalidFilterError(f"cursor points past the end of the text ({len(text)} characters)")
    end = min(len(text), offset + max_chars)
    return text[offset:end], {
        "text_chars": len(text),
        "range": [offset, end],
        "complete": end == len(text) and offset == 0,
        "next_cursor": f"c:{end}" if end < len(text) else None,
    }


def get_document(
    atlas: MailAtlas,
    document_id: str,
    *,
    cursor: str | None = None,
    max_chars: int = BODY_CHARS_DEFAULT,
    assets_cursor: str | None = None,
) -> Result:
    """One document: headers, a page of its body text, a page of its assets, locations."""
    document = atlas.get_document(document_id)
    body, paging = _page_text(document.body_text, _offset(cursor, "c"), max_chars)
    first = _offset(assets_cursor, "o")
    if first and first >= len(document.assets):
        raise InvalidFilterError(
            f"assets_cursor points past the last asset ({len(document.assets)} assets)"
        )
    assets = document.assets[first : first + ASSETS_PAGE]
    trusted: dict[str, Any] = {"body": paging}
    if first or len(document.assets) > ASSETS_PAGE:
        end = first + len(assets)
        trusted["assets"] = {
            "assets": len(document.assets),
            "range": [first, end],
            "next_cursor": f"o:{end}" if end < len(document.assets) else None,
        }
    data = {
        "id": document.id,
        "thread_id": document.thread_id,
        "source_kind": document.source_kind,
        "received_at": document.received_at,
        "headers": _headers(document),
        "body_text": body,
        "assets": [_asset(a) for a in assets],
        "locations": [loc.to_dict() for loc in document.locations],
    }
    source = f"{store_source(atlas)}, document {document.id}"
    return Result(source, data, trusted, paged=("body_text",))


def get_thread(atlas: MailAtlas, thread_id: str, *, cursor: str | None = None) -> Result:
    """A conversation: its messages in date order (paged) and, when small, its tree."""
    thread = atlas.get_thread(thread_id)
    offset = _offset(cursor, "o")
    ordered = thread.in_order()
    page = ordered[offset : offset + THREAD_PAGE]
    parents = thread.parent_of()
    messages = [
        {
            "document_id": m.document_id,
            "message_id": m.message_id,
            "subject": m.subject,
            "sender_email": m.sender,
            "date": m.date or None,
            "answers_document": parents.get(m.document_id),
        }
        for m in page
    ]
    data: dict[str, Any] = {
        "thread_id": thread.thread_id,
        "root": thread.root,
        "message_count": len(ordered),
        "messages": messages,
    }
    more = offset + THREAD_PAGE < len(ordered)
    trusted: dict[str, Any] = {
        "offset": offset,
        "next_cursor": f"o:{offset + THREAD_PAGE}" if more else None,
    }
    if len(ordered) <= THREAD_PAGE:
        tree = thread.to_dict()["tree"]  # the frame bounds its fields as it does here
        if len(json.dumps(bounded(tree), ensure_ascii=False, indent=1)) <= TREE_CHARS_MAX:
            data["tree"] = tree
        else:
            trusted["tree"] = "left out: too large; each message's answers_document gives it"
    return Result(f"{store_source(atlas)}, thread {thread.thread_id}", data, trusted)


def get_attachment(
    atlas: MailAtlas,
    asset_id: str,
    *,
    cursor: str | None = None,
    max_chars: int = BODY_CHARS_DEFAULT,
) -> Result:
    """An attachment's metadata and the text the store read from it (paged), or why
    there is none (binary, unsupported, failed, over a limit)."""
    asset = atlas.get_asset(asset_id)
    data: dict[str, Any] = {"document_id": asset.document_id, **_asset(asset)}
    trusted: dict[str, Any] = {}
    extracted = asset.text
    if extracted is not None and extracted.status == "ok" and extracted.text is not None:
        data["text"], trusted["text"] = _page_text(extracted.text, _offset(cursor, "c"), max_chars)
        # Cut at extraction (a size or time limit), as opposed to paged here.
        trusted["text"]["extraction_truncated"] = extracted.truncated
    else:
        data["text"] = None
        trusted["text"] = (
            f"no text: {extracted.status}"
            if extracted
            else "no text: stored before text extraction existed"
        )
    source = f"{store_source(atlas)}, document {asset.document_id}, attachment {asset.id}"
    return Result(source, data, trusted, paged=("text",))


def export_document(atlas: MailAtlas, document_id: str, *, format: str = "markdown") -> Result:
    """Write an export into the workspace's exports folder; say where.

    A local workspace gets the file ``exports/<id>.<ext>`` and its path; an S3 one (no
    local folder to write into) the object ``exports/<id>.<ext>`` under its prefix and
    its ``s3://`` address, the same export as text with absolute asset links."""
    fmt = cast(ExportFormat, format)  # the tool's schema allows markdown, json, html
    workspace = atlas.workspace_path
    if workspace is None or isinstance(workspace, Path):
        where = str(atlas.export_document(document_id, format=fmt))
    else:  # s3://BUCKET/PREFIX
        text = atlas.render_document(document_id, fmt)
        key = f"exports/{document_id}.{EXPORT_EXTENSIONS[fmt]}"
        blobs = atlas.store(create=False).blobs
        blobs.put(key, text.encode("utf-8"))
        # A store's S3 PUTs may run in the background: wait for this one (its error is
        # raised here) so the address returned is there to be read.
        blobs.size(key)
        where = blobs.locate(key)
    data = {"document_id": document_id, "format": format, "path": where}
    return Result(f"{store_source(atlas)}, document {document_id}", data)


def list_folders(atlas: MailAtlas, *, cursor: str | None = None) -> Result:
    """The IMAP folders mail was seen in, with document counts; paged (an account can
    have thousands of labels)."""
    offset = _offset(cursor, "o")
    found = sorted(atlas.stats().by_folder.items())
    page = found[offset : offset + FOLDERS_PAGE]
    folders = [{"folder": name, "documents": count} for name, count in page]
    more = offset + FOLDERS_PAGE < len(found)
    trusted = {
        "folders": len(found),
        "offset": offset,
        "next_cursor": f"o:{offset + FOLDERS_PAGE}" if more else None,
    }
    return Result(store_source(atlas), {"folders": folders}, trusted)


def stats(atlas: MailAtlas) -> Result:
    """Counts, sizes, sources and folders of the store (the folders only when there are
    at most a page of them: list_folders pages any number)."""
    data = atlas.stats().to_dict()
    trusted: dict[str, Any] = {}
    if len(data["by_folder"]) > FOLDERS_PAGE:
        folders = len(data["by_folder"])
        trusted["by_folder"] = f"left out: {folders} folders; list_folders pages them"
        del data["by_folder"]
    return Result(store_source(atlas), data, trusted)
