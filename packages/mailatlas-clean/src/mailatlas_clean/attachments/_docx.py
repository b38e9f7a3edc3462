"""DOCX text with python-docx: body paragraphs and tables in document order, then the
headers and footers. No macro is ever run (python-docx has no macro engine)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
from docx.table import Table

from ._sink import TextSink

__all__ = ["NAME", "read_docx"]

NAME = "python-docx " + str(getattr(docx, "__version__", ""))


def _table_lines(table: Any) -> list[str]:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if not cells or text != cells[-1]:  # a merged cell repeats itself
                cells.append(text)
        lines.append("\t".join(cells))
    return lines


def read_docx(archive: zipfile.ZipFile, data: bytes, sink: TextSink) -> None:
    del archive  # checked by the caller; python-docx opens its own view of the bytes
    document = docx.Document(io.BytesIO(data))
    for block in document.iter_inner_content():
        lines = _table_lines(block) if isinstance(block, Table) else [block.text]
        for line in lines:
            if not sink.add(line):
                return
    seen: set[str] = set()
    for section in document.sections:
        for part in (section.header, section.footer):
            if part.is_linked_to_previous:
                continue
            text = "\n".join(p.text for p in part.paragraphs).strip()
            if text and text not in seen:
                seen.add(text)
                if not sink.add(text):
                    return
