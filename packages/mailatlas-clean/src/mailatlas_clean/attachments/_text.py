"""Plain text, CSV and HTML attachments: what the message parser already has (its
charset rules, nh3 and html-to-markdown), so they need no optional dependency.

The HTML stack (nh3, html-to-markdown and the parser's modules around them) is imported
by :func:`read_html` only: the extractor process that reads a text or CSV file does not
load it (about 15 ms of CPU a process)."""

from __future__ import annotations

import csv

from ..parser._charsets import decode_text
from ._sink import TextSink

__all__ = ["NAME", "read_csv", "read_html", "read_plain"]

NAME = "mailatlas-clean"
_FIELD_LIMIT = 1 << 20  # csv's own default (128 KB) fails on a long quoted cell


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return decode_text(data, None)[0].replace("\x00", "")


def read_plain(data: bytes, sink: TextSink) -> None:
    sink.add(_decode(data))


def read_csv(data: bytes, sink: TextSink) -> None:
    """One line per record, cells tab-separated (quoting undone, so words are searchable)."""
    text = _decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        for record in csv.reader(text.splitlines(), dialect):
            if not sink.add("\t".join(c.strip() for c in record)):
                return
    except csv.Error:  # ragged quoting: the text as it is is still worth searching
        sink.pieces.clear()
        sink.chars = 0
        sink.add(text)


def read_html(data: bytes, sink: TextSink) -> None:
    from ..parser._html import sanitize_html
    from ..parser._html_text import html_to_text

    clean, _blocked = sanitize_html(_decode(data))
    sink.add(html_to_text(clean)[0])
