"""mailatlas-cli: the ``mailatlas`` command and the ``MailAtlas`` Python facade.

The facade composes the other packages (core store, clean parser, IMAP sync) behind
one object; the command line is a thin shell over it::

    from mailatlas_cli import MailAtlas

    atlas = MailAtlas(db_path=".mailatlas/store.db", workspace_path=".mailatlas/workspace")
    refs = atlas.ingest_eml(["a.eml", "b.eml"])
    path = atlas.export_document(refs[0].id, format="markdown", out="bundle/")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .__about__ import __version__
from ._atlas import MailAtlas
from ._errors import BrowserNotFoundError, ExportError, ExportPathError
from ._formats import EXPORT_FORMATS, ExportFormat

if TYPE_CHECKING:
    from mailatlas_clean import IngestFailure, IngestInterrupted, IngestResult


def __getattr__(name: str) -> Any:
    # The ingest pipeline (mailatlas_clean's) imports the parser; load it on first use
    # (fast `list`/`show`).
    if name in {"IngestFailure", "IngestInterrupted", "IngestResult"}:
        import mailatlas_clean

        value = getattr(mailatlas_clean, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXPORT_FORMATS",
    "BrowserNotFoundError",
    "ExportError",
    "ExportFormat",
    "ExportPathError",
    "IngestFailure",
    "IngestInterrupted",
    "IngestResult",
    "MailAtlas",
    "__version__",
]
