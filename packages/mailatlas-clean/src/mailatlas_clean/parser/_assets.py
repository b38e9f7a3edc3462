"""From found parts to ``AssetData``: safe unique names and the ``cid:`` link map."""

from __future__ import annotations

from mailatlas_core import AssetData, AssetKind

from ._content import FoundAsset
from ._html import asset_href
from ._names import NameAllocator, default_name, safe_filename

__all__ = ["build_assets"]


def build_assets(
    found: list[FoundAsset], document_id: str
) -> tuple[list[tuple[AssetData, str]], dict[str, str]]:
    """Name every asset safely and uniquely; map Content-IDs to local hrefs.

    Returns:
        ``(asset, mime part path)`` pairs in message order, and ``cid -> href``.
    """
    names = NameAllocator()
    assets: list[tuple[AssetData, str]] = []
    targets: dict[str, str] = {}
    for ordinal, part in enumerate(found, 1):
        fallback = default_name(ordinal, part.mime_type)
        filename = names.allocate(safe_filename(part.original_filename, fallback))
        kind: AssetKind = "inline" if part.kind == "inline" else "attachment"
        asset = AssetData(
            kind=kind,
            mime_type=part.mime_type,
            filename=filename,
            data=part.data,
            cid=part.cid,
            original_filename=part.original_filename,
        )
        assets.append((asset, part.part))
        if part.cid:
            href = asset_href(document_id, filename)
            targets.setdefault(part.cid, href)
            targets.setdefault(part.cid.lower(), href)
    return assets, targets
