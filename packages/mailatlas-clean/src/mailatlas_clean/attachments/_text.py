"""Plain text, CSV and HTML attachments: what the message parser already has (its
charset rules, nh3 and html-to-markdown), so they need no optional dependency.

The HTML stack (nh3, html-to-markdown and the parser's modules around them) is imported
by :func:`read_html` only: the extractor process that reads a text or CSV file does not
load it (about 15 ms of CPU a process)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from ..parser._charsets import decode_text
from ._sink import TextSink

__all__ = ["NAME", "read_csv", "read_html", "read_plain"]

NAME = "mailatlas-clean"
_FIELD_LIMIT = 1 << 20  # csv's own default (128 KB) fails on a long quoted cell
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n|$)")  # linear: the class and its ends are disjoint


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return decode_text(data, None)[0].replace("\x00", "")


def read_plain(data: bytes, sink: TextSink) -> None:
    sink.add(_decode(data))


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time, each with its line end (``\\n``, ``\\r\\n`` or
    ``\\r``), as ``csv.reader`` wants them: a quoted cell keeps its own line breaks."""
    for line in _LINE.finditer(text):
        if line.end() > line.start():
            yield line.group()


def _cell(cell: str) -> str:
    """A cell without the spaces around it, its line breaks (in quotes) as ``\\n``."""
    cell = cell.strip()
    return cell.replace("\r\n", "\n").replace("\r", "\n") if "\r" in cell else cell


def read_csv(data: bytes, sink: TextSink) -> None:
    """One line per record (more where a quoted cell holds line breaks), cells
    tab-separated (quoting undone, so words are searchable).

    The records are read a line at a time and reading stops at the sink's limit: a file
    is never held as a list of its lines (5-6x its size on top of it for short rows)."""
    text = _decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        for record in csv.reader(_lines(text), dialect):
            if not sink.add("\t".join(map(_cell, record))):
                return
    except csv.Error:  # ragged quoting: the text as it is is still worth searching
        sink.pieces.clear()
        sink.chars = 0
        sink.add(text)


def read_html(data: bytes, sink: TextSink) -> None:
    """The text of each sanitised piece as it comes, until the sink's limit: the whole
    sanitised HTML and its whole text are never held (with them, 6x the file)."""
    from ..parser._html import sanitized_pieces
    from ..parser._html_text import html_to_text

    for piece in sanitized_pieces(_decode(data)):
        text = html_to_text(piece)[0]
        # A piece of empty elements, styles or comments has no text: no blank line.
        if text and not text.isspace() and not sink.add(text):
            return
