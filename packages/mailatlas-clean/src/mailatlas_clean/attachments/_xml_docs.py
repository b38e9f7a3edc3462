"""PPTX and OpenDocument (ODT, ODS, ODP) text, read straight from their XML with
defusedxml: a few element names carry all the text, so a streaming reader is shorter,
faster and safer than a library (python-pptx would bring Pillow and XlsxWriter along;
odfpy is unmaintained)."""

from __future__ import annotations

import zipfile
from typing import Any

import defusedxml
from defusedxml.ElementTree import iterparse

from ._sink import TextSink

__all__ = ["NAME", "read_odf", "read_pptx"]

NAME = f"defusedxml {getattr(defusedxml, '__version__', '')}".strip()

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_PARAGRAPHS = frozenset({_TEXT + "p", _TEXT + "h"})
_CELLS = frozenset({_TABLE + "table-cell", _TABLE + "covered-table-cell"})


def _number(name: str, folder: str, stem: str) -> int | None:
    """N of ``<folder><stem>N.xml`` (a part of a deck), else ``None``."""
    if not (name.startswith(folder + stem) and name.endswith(".xml")):
        return None
    digits = name[len(folder + stem) : -4]
    return int(digits) if digits.isdigit() and len(digits) < 9 else None


def _drawing_paragraphs(archive: zipfile.ZipFile, name: str) -> list[str]:
    """The text of each DrawingML paragraph (``a:p``) of one part, in order."""
    lines: list[str] = []
    runs: list[str] = []
    with archive.open(name) as stream:
        for event, element in iterparse(stream, events=("end",), forbid_dtd=True):
            del event
            if element.tag == _A + "t":
                runs.append(element.text or "")
            elif element.tag == _A + "br":
                runs.append("\n")
            elif element.tag == _A + "p":
                line = "".join(runs).strip()
                if line:
                    lines.append(line)
                runs = []
                element.clear()
    return lines


def read_pptx(archive: zipfile.ZipFile, data: bytes, sink: TextSink) -> None:
    del data
    names = archive.namelist()
    notes = {n: name for name in names if (n := _number(name, "ppt/notesSlides/", "notesSlide"))}
    slides = sorted((n, name) for name in names if (n := _number(name, "ppt/slides/", "slide")))
    for number, (part, slide) in enumerate(slides, 1):
        if not sink.add(f"--- slide {number} ---"):
            return
        for line in _drawing_paragraphs(archive, slide):
            if not sink.add(line):
                return
        if part in notes:
            for line in _drawing_paragraphs(archive, notes[part]):
                if not sink.add(line):
                    return


def _odf_text(element: Any) -> str:
    """One paragraph's text: spans flattened, tabs, spaces and line breaks spelled out."""
    parts: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == _TEXT + "tab":
            parts.append("\t")
        elif tag == _TEXT + "s":
            count = child.get(_TEXT + "c") or "1"
            parts.append(" " * min(int(count) if count.isdigit() else 1, 1000))
        elif tag == _TEXT + "line-break":
            parts.append("\n")
        elif tag != _TEXT + "note":
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def read_odf(archive: zipfile.ZipFile, data: bytes, sink: TextSink) -> None:
    """Paragraphs and headings in order; a table row as one tab-separated line.

    Repeated cells (``number-columns-repeated``) are read once, never expanded.
    """
    del data
    row: list[str] | None = None  # the cells of the table row being read
    cell: list[str] | None = None  # the paragraphs of the cell being read
    depth = 0  # paragraphs inside paragraphs (notes, frames) are read with their outer one
    with archive.open("content.xml") as stream:
        for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            if tag in _PARAGRAPHS:
                depth += 1 if event == "start" else -1
                if event == "start" or depth:
                    continue
                text = _odf_text(element).strip()
                element.clear()
                if cell is not None:
                    cell.append(text)
                elif text and not sink.add(text):
                    return
            elif tag in _CELLS:
                if event == "start":
                    cell = []
                else:
                    if row is not None:
                        row.append(" ".join(t for t in cell or () if t))
                    cell = None
            elif tag == _TABLE + "table-row":
                if event == "start":
                    row = []
                    continue
                line = "\t".join(c for c in row or () if c)
                row = None
                element.clear()
                if line and not sink.add(line):
                    return
