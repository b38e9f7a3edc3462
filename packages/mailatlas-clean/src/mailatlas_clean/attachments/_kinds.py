"""Which reader an attachment goes to: by MIME type, then file name, then magic bytes."""

from __future__ import annotations

__all__ = ["KINDS", "kind_of", "label_of"]

# kind -> (MIME types, file name suffixes)
KINDS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "pdf": (frozenset({"application/pdf", "application/x-pdf"}), (".pdf",)),
    "docx": (
        frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
        (".docx",),
    ),
    "xlsx": (
        frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        (".xlsx",),
    ),
    "pptx": (
        frozenset({"application/vnd.openxmlformats-officedocument.presentationml.presentation"}),
        (".pptx",),
    ),
    "odf": (
        frozenset(
            {
                "application/vnd.oasis.opendocument.text",
                "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.oasis.opendocument.presentation",
            }
        ),
        (".odt", ".ods", ".odp"),
    ),
    "html": (frozenset({"text/html", "application/xhtml+xml"}), (".html", ".htm", ".xhtml")),
    "csv": (frozenset({"text/csv", "text/tab-separated-values"}), (".csv", ".tsv")),
    "text": (frozenset({"text/plain", "text/markdown"}), (".txt", ".md", ".log")),
}

# Labels that say nothing about the content: the file name decides.
_VAGUE = frozenset({"application/octet-stream", "application/octetstream", "binary/octet-stream"})


def kind_of(mime_type: str, filename: str | None, data: bytes) -> str | None:
    """The reader for an attachment, or ``None`` for a type MailAtlas does not read."""
    mime = mime_type.lower().split(";", 1)[0].strip()
    for kind, (mimes, _suffixes) in KINDS.items():
        if mime in mimes:
            return kind
    name = (filename or "").lower()
    if mime in _VAGUE or not mime or mime.startswith("application/"):
        for kind, (_mimes, suffixes) in KINDS.items():
            if name.endswith(suffixes) and kind not in ("html", "text", "csv"):
                return kind
    if mime in _VAGUE or not mime or mime.startswith("text/"):
        for kind in ("html", "csv", "text"):
            if name.endswith(KINDS[kind][1]):
                return kind
    if mime in _VAGUE and data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    return None


_LABELS = {"pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "pptx": "PPTX", "odf": "OpenDocument"}


def label_of(kind: str) -> str:
    """How messages name a kind: ``PDF``, ``OpenDocument``, ``HTML``, ``text``."""
    return _LABELS.get(kind, kind.upper() if kind != "text" else "text")
