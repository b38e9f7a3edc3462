"""What every export shares: the header fields, asset links, and private atomic writes."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mailatlas_core import Asset, Document

from ..errors import ExportError

__all__ = [
    "AssetLinker",
    "Header",
    "absolute_path_link",
    "absolute_uri_link",
    "bundle_link",
    "copy_assets",
    "header_of",
    "make_private_dir",
    "write_private",
]

AssetLinker = Callable[[Asset], str]


@dataclass(frozen=True, slots=True)
class Header:
    """The header block shown at the top of Markdown, HTML and PDF exports."""

    subject: str
    sender: str | None
    to: str | None
    cc: str | None
    date: str | None


def _address(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        name, email = value.get("name"), value.get("email") or value.get("address")
        if name and email:
            return f"{name} <{email}>"
        return str(email or name) if (email or name) else None
    if isinstance(value, list | tuple) and len(value) == 2:
        name, email = value
        return _address({"name": name, "email": email})
    return None


def _recipients(metadata: dict[str, Any], field: str) -> str | None:
    """Recipients of one header (``to``, ``cc``), however the parser shaped them."""
    block = metadata.get("recipients")
    value = block.get(field) if isinstance(block, dict) else metadata.get(field)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    names = [a for a in (_address(item) for item in items) if a]
    return ", ".join(names) or None


def header_of(document: Document) -> Header:
    """The subject, sender, recipients and date of a document, ready to print."""
    if document.sender_name and document.sender_email:
        sender: str | None = f"{document.sender_name} <{document.sender_email}>"
    else:
        sender = document.sender_email or document.sender_name or document.author
    return Header(
        subject=document.subject or "(no subject)",
        sender=sender,
        to=_recipients(document.metadata, "to"),
        cc=_recipients(document.metadata, "cc"),
        date=_date(document),
    )


def _date(document: Document) -> str | None:
    """The ``Date`` header as sent (with its time zone), else the stored UTC time."""
    dates = document.metadata.get("dates")
    if isinstance(dates, dict) and isinstance(dates.get("date"), str) and dates["date"]:
        return str(dates["date"])
    return document.published_at or document.received_at


def absolute_path_link(asset: Asset) -> str:
    """Link an asset where it lives in the workspace, as a percent-encoded absolute path."""
    return quote(asset.file_path)


def absolute_uri_link(asset: Asset) -> str:
    """Link an asset where it lives in the workspace, as a ``file:`` URI."""
    return Path(asset.file_path).as_uri()


def bundle_link(asset: Asset) -> str:
    """Link an asset copied next to the export, as ``assets/<filename>``."""
    return "assets/" + quote(asset.filename)


def copy_assets(document: Document, bundle_dir: Path) -> None:
    """Copy a document's assets into ``bundle_dir/assets/`` (private permissions)."""
    if not document.assets:
        return
    make_private_dir(bundle_dir)
    target = bundle_dir / "assets"
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for asset in document.assets:
        name = Path(asset.filename).name  # the store keeps safe names; stay safe anyway
        try:
            shutil.copyfile(asset.file_path, target / name)
        except OSError as exc:
            raise ExportError(
                f"cannot copy asset {asset.filename!r} into {target}: "
                f"{exc.strerror or exc} — check the workspace and the --out directory"
            ) from exc
        os.chmod(target / name, 0o600)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing; a directory MailAtlas creates is 0700."""
    if path.is_dir():
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"cannot create {path}: {exc.strerror or exc} — choose another --out location"
        ) from exc


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename), mode 0600."""
    make_private_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ExportError(
            f"cannot write {path}: {exc.strerror or exc} — choose another --out location"
        ) from exc
    return path.absolute()
