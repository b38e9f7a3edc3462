"""mailatlas-cli: the ``mailatlas`` command and the ``MailAtlas`` Python facade.

The facade composes the other packages (core store, clean parser, IMAP sync) behind
one object; the command line is a thin shell over it::

    from mailatlas_cli import MailAtlas

    atlas = MailAtlas(db_path=".mailatlas/store.db", workspace_path=".mailatlas/workspace")
    refs = atlas.ingest_eml(["a.eml", "b.eml"])
    path = atlas.export_document(refs[0].id, format="markdown", out="bundle/")
"""

from .__about__ import __version__
from ._export import EXPORT_FORMATS, ExportFormat
from ._ingest import IngestFailure, IngestResult
from .atlas import MailAtlas
from .errors import BrowserNotFoundError, ExportError, ExportPathError

__all__ = [
    "EXPORT_FORMATS",
    "BrowserNotFoundError",
    "ExportError",
    "ExportFormat",
    "ExportPathError",
    "IngestFailure",
    "IngestResult",
    "MailAtlas",
    "__version__",
]
