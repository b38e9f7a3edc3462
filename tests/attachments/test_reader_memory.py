"""The text readers' memory is bounded by the file, not by its number of lines or the
size of its HTML (issue 11: at most 4x a message's size for every content type).

The CSV reader held a file as the list of its lines: for short rows about 6x the file on
top of it (the extractor process reading a 7 MB CSV file: 7.35x its size), although
the text it keeps is cut at ``max_text_chars``. The HTML reader held the whole sanitised
HTML and its whole text (6.1x). Measured with tracemalloc (every Python allocation of
the call: deterministic), the sink's limit set well below the file so that its pieces
are small beside it.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from mailatlas_clean.attachments._sink import TextSink
from mailatlas_clean.attachments._text import read_csv, read_html


def _peak(read: Callable[[bytes, TextSink], None], data: bytes, limit: int) -> tuple[float, str]:
    """The peak of ``read(data)`` as a multiple of ``len(data)``, and its text."""
    sink = TextSink(limit)
    tracemalloc.start()
    try:
        read(data, sink)
        text = sink.text()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / len(data), text


def test_a_csv_file_of_short_rows_is_read_a_line_at_a_time() -> None:
    data = b"".join(b"n,%d,1.5,x\r\n" % i for i in range(400_000))  # 5.6 MB
    peak, text = _peak(read_csv, data, 100_000)
    # The text decoded (1x) and the sink's pieces; the list of lines was 6.3x more.
    assert peak <= 2.0, f"{peak:.2f}x the file"
    assert text.startswith("n\t0\t1.5\tx\nn\t1\t1.5\tx\n") and len(text) <= 100_000


def test_csv_line_ends_of_every_kind_and_a_quoted_line_break() -> None:
    def read(data: bytes) -> str:
        sink = TextSink(1000)
        read_csv(data, sink)
        return sink.text()

    rows = "sku\tnote\nA-1\tfirst line\nsecond line\nB-2\tplain"
    for end in (b"\n", b"\r\n", b"\r"):
        data = end.join([b"sku,note", b'A-1,"first line' + end + b'second line"', b"B-2,plain"])
        # The break inside the quoted cell is kept, as \n (it was dropped, joining words).
        assert read(data) == rows, end
    # A form feed is not a record separator for CSV (str.splitlines took it for one).
    assert read(b"a,b\x0cc\n1,2\n") == "a\tb\x0cc\n1\t2"


def test_an_html_file_is_sanitised_and_read_a_piece_at_a_time() -> None:
    para = b"<p>Lorem <b>ipsum</b> dolor %d <a href='https://example.test/'>l</a></p>\n"
    data = b"<html><body>" + b"".join(para % i for i in range(60_000))  # 4.3 MB
    peak, text = _peak(read_html, data, 100_000)
    # The text decoded (1x) and one piece's work; the whole sanitised HTML and its
    # whole text were held beside it (2.7x).
    assert peak <= 1.8, f"{peak:.2f}x the file"
    assert text.startswith("Lorem ipsum dolor 0 [l](https://example.test/)\n")
    assert len(text) <= 100_000


def test_a_sink_filled_exactly_takes_nothing_more() -> None:
    """A piece that fills the limit exactly left the count one past it (its newline):
    the next piece then passed whole but its last character, about one more piece of
    text than ``max_text_chars`` (the HTML reader adds a piece per 512 KB of HTML)."""
    sink = TextSink(10)
    assert sink.add("0123456789") and not sink.truncated  # it fits
    assert not sink.add("more text that must not come in") and sink.truncated
    assert sink.text() == "0123456789"
    sink = TextSink(10)
    assert sink.add("01234")  # 5 characters and a newline: 4 left
    assert sink.add("5678") and not sink.add("x")  # it fits; then nothing does
    assert sink.text() == "01234\n5678" and len(sink.text()) == 10


def test_html_pieces_without_text_add_no_blank_lines() -> None:
    """(Before: a blank line for each piece of 512 KB or 16,384 tags without text.)"""

    def read(data: bytes) -> str:
        sink = TextSink(1000)
        read_html(data, sink)
        return sink.text()

    empty = b"<i></i>" * 200_000  # pieces of their own, each with no text
    plain = read(b"<html><body><p>first</p><p>second</p></body></html>")
    assert plain == "first\n\nsecond\n"
    assert read(b"<html><body><p>first</p>" + empty + b"<p>second</p></body></html>") == plain
