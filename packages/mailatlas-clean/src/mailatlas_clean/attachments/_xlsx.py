"""XLSX text with openpyxl in read-only mode: cell values as last saved (``data_only``:
formulas are never evaluated), no external links, no VBA; rows streamed, never the
whole sheet in memory. openpyxl parses with defusedxml when it is installed (it is part
of the extra)."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from ._sink import TextSink

__all__ = ["NAME", "read_xlsx"]

NAME = f"openpyxl {openpyxl.__version__}"


def read_xlsx(archive: zipfile.ZipFile, data: bytes, sink: TextSink) -> None:
    del archive
    book = openpyxl.load_workbook(
        io.BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False
    )
    try:
        for sheet in book.worksheets:
            if not sink.add(f"--- sheet {sheet.title} ---"):
                return
            sheet.reset_dimensions()  # writers that record a wrong size lose no rows
            for row in sheet.iter_rows(values_only=True):
                values = [str(v) for v in row if v is not None and str(v).strip()]
                if values and not sink.add("\t".join(values)):
                    return
    finally:
        book.close()
