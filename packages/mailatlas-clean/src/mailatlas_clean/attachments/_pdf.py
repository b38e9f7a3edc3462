"""PDF text with pypdf: pure Python (a damaged file raises, it cannot crash the process,
and the time budget can stop it anywhere), no JavaScript engine, no network, and its
own caps on inflated stream sizes."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf import __version__ as _version

from ._errors import Refused
from ._sink import TextSink

__all__ = ["NAME", "read_pdf"]

NAME = f"pypdf {_version}"
# pypdf logs every repair it makes to a damaged file; the asset records the outcome.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def read_pdf(data: bytes, sink: TextSink) -> None:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs are "encrypted" with an empty password
        except Exception as exc:
            raise Refused(f"the PDF is encrypted ({exc})") from exc
        if not opened:
            raise Refused("the PDF is encrypted with a password")
    for number, page in enumerate(reader.pages, 1):
        text = (page.extract_text() or "").strip()
        # Pages without text (scans) add nothing: an image-only PDF has empty text.
        if text and not sink.add(f"--- page {number} ---\n{text}"):
            break
