"""What every export shares: the header fields, asset links, and private atomic writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from mailatlas_core import Asset, BlobStore, Document, Mailbox, StoreError
from mailatlas_core._files import open_regular, read_regular

__all__ = [
    "LOCAL_FILES",
    "AssetLinker",
    "Header",
    "StoredFiles",
    "absolute_path_link",
    "absolute_uri_link",
    "bundle_link",
    "bundle_linker",
    "header_of",
]

AssetLinker = Callable[[Asset], str]


class StoredFiles:
    """How an export reads a document's stored HTML and assets: through the store's blob
    store (any backend: local files, S3), by the keys the store gave the document.

    Without a blob store (a :class:`Document` built by hand) the document's local paths
    are read, never through a symbolic link.
    """

    def __init__(self, blobs: BlobStore | None = None) -> None:
        self.blobs = blobs

    def html(self, document: Document) -> str | None:
        """The stored (sanitised) HTML snapshot, or ``None`` when there is none to read."""
        try:
            if self.blobs is not None and document.body_html_key:
                data = self.blobs.get(document.body_html_key)
            elif document.body_html_path:
                data = read_regular(document.body_html_path, follow=False)
            else:
                return None
        except (OSError, StoreError):
            return None
        return data.decode("utf-8", errors="replace")

    def open_asset(self, asset: Asset) -> BinaryIO:
        """A stream of an asset's bytes (``OSError`` or ``StoreError`` if unreadable)."""
        if self.blobs is not None and asset.key:
            return self.blobs.open(asset.key)
        return os.fdopen(open_regular(asset.file_path, follow=False), "rb")


LOCAL_FILES = StoredFiles()
"""Read documents' files by their local paths."""


@dataclass(frozen=True, slots=True)
class Header:
    """The header block shown at the top of Markdown, HTML and PDF exports."""

    subject: str
    sender: str | None
    to: str | None
    cc: str | None
    date: str | None


def _recipients(mailboxes: list[Mailbox]) -> str | None:
    """The mailboxes of one header (``to``, ``cc``), as ``Name <address>, ...``."""
    names = [
        f"{m['name']} <{m['email']}>" if m["name"] and m["email"] else m["email"] or m["name"]
        for m in mailboxes
    ]
    return ", ".join(n for n in names if n) or None


def header_of(document: Document) -> Header:
    """The subject, sender, recipients and date of a document, ready to print."""
    if document.sender_name and document.sender_email:
        sender: str | None = f"{document.sender_name} <{document.sender_email}>"
    else:
        sender = document.sender_email or document.sender_name or document.author
    return Header(
        subject=document.subject or "(no subject)",
        sender=sender,
        to=_recipients(document.metadata["recipients"]["to"]),
        cc=_recipients(document.metadata["recipients"]["cc"]),
        date=_date(document),
    )


def _date(document: Document) -> str | None:
    """The ``Date`` header as sent (with its time zone), else the stored UTC time."""
    return document.metadata["dates"]["date"] or document.published_at or document.received_at


def _url_link(where: str) -> str | None:
    """An asset that lives in an object store (``s3://bucket/key``), linked by its URL
    with the path percent-encoded; None for a local path."""
    scheme, sep, rest = where.partition("://")
    if not sep or "/" in scheme:
        return None
    return f"{scheme}://{quote(rest)}"


def absolute_path_link(asset: Asset) -> str:
    """Link an asset where it lives in the workspace: a percent-encoded absolute path, or
    the URL of an S3 workspace's object."""
    return _url_link(asset.file_path) or quote(asset.file_path)


def absolute_uri_link(asset: Asset) -> str:
    """Link an asset where it lives in the workspace: a ``file:`` URI, or the URL of an
    S3 workspace's object."""
    return _url_link(asset.file_path) or Path(asset.file_path).as_uri()


def bundle_linker(folder: str) -> AssetLinker:
    """Link assets copied beside the export, as ``<folder>/<filename>`` (relative)."""
    prefix = quote(folder) + "/"

    def link(asset: Asset) -> str:
        return prefix + quote(asset.filename)

    return link


bundle_link = bundle_linker("assets")
"""Link an asset copied into a bundle's ``assets/`` folder."""
