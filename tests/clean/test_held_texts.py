"""A text attachment's text travels from a parse worker as the file's own bytes.

Issue 11: a message of thousands of small text parts cost the storing process 4.3x its
size, most of it each part's bytes and, beside them, its text: the same characters
twice. A parse worker now sends such a text held as (a span of) the bytes
(``AssetText.held_as``), decoded at each read; everything that reads it (equality,
JSON, the store's text rows) gets the same text as from a parse in the calling process.
"""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest
from mailatlas_clean import ParseJob, ParsePool, ParserConfig, parse_bytes
from mailatlas_core import AssetText, ParsedDocument, SourceLocation, open_store


def _message(parts: list[tuple[str, bytes]]) -> bytes:
    body = b""
    for name, data in parts:
        charset = "iso-8859-1" if name.endswith("latin1.txt") else "utf-8"
        body += (
            (
                f"--b\r\nContent-Type: text/plain; charset={charset}\r\n"
                f"Content-Disposition: attachment; filename={name}\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    head = (
        b"From: a@example.test\r\nTo: B <b@example.test>\r\nSubject: texts\r\n"
        b"Message-ID: <texts@example.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    )
    return head + body + b"--b--\r\n"


PARTS = [
    ("ascii.txt", b"plain words\r\nand more words"),
    ("utf8.txt", "na\u00efve caf\u00e9 \u2014 \u65e5\u672c".encode()),
    ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1")),  # its text is not its bytes
    ("zero.txt", b"a\x00b"),  # the reader drops NUL: not its bytes either
    ("lines.txt", b"line one\r\nline two\r\n\r\n"),  # its text: the lines, not the blank
    ("empty.txt", b""),
]


def test_a_text_that_is_its_files_utf8_bytes_is_held_as_them() -> None:
    same = AssetText("ok", "caf\u00e9", chars=4, extractor="mailatlas-clean")
    data = "caf\u00e9".encode()
    held = same.held_as(data)
    assert held is not same and held.text == "caf\u00e9" and held == same
    assert hash(held) == hash(same) and held.to_dict() == same.to_dict()
    assert held.held_as(data) is held
    # Pickled with its attachment, the bytes go once and the text stays held.
    again = pickle.loads(pickle.dumps((data, held), protocol=5))
    assert again[1].text == "caf\u00e9" and again[1]._source[0] is again[0]
    # A text is a span of its file's bytes: the blank lines around it are not in it.
    for data, text in (
        (b"\r\nline one\r\nline two\r\n\r\n", "line one\r\nline two"),
        ("\n\u00e9t\u00e9 \u2014 \u65e5\n".encode(), "\u00e9t\u00e9 \u2014 \u65e5"),
    ):
        span = AssetText("ok", text, chars=len(text)).held_as(data)
        assert span._source is not None and span._source[0] is data and span.text == text
    # Not held: other bytes, another encoding of it, no text.
    assert same.held_as(b"cafe") is same
    assert same.held_as("caf\u00e9".encode("latin-1")) is same
    assert AssetText("unsupported").held_as(b"x") == AssetText("unsupported")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        held.nothing  # noqa: B018  (only the text is rebuilt)


def _in_worker(raw: bytes) -> ParsedDocument:
    with ParsePool(ParserConfig(), workers=1) as pool:
        ((_, outcome),) = pool.results(pool.submit([ParseJob(0, raw)]))
    assert isinstance(outcome, ParsedDocument)
    return outcome


def _texts(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT status, chars, truncated, error, extractor, text FROM asset_texts"
            " ORDER BY asset_id"
        ).fetchall()


def test_a_worker_sends_text_files_held_and_they_store_the_same(tmp_path: Path) -> None:
    raw = _message(PARTS)
    ahead, inline = _in_worker(raw), parse_bytes(raw)
    held = {a.filename: a.text is not None and a.text._source is not None for a in ahead.assets}
    assert held == {
        "ascii.txt": True,
        "utf8.txt": True,
        "latin1.txt": False,
        "zero.txt": False,
        "lines.txt": True,
        "empty.txt": True,
    }
    assert all(a.text is None or a.text._source is None for a in inline.assets)
    assert ahead == inline and ahead.to_dict() == inline.to_dict()
    stored = []
    for name, doc in (("ahead", ahead), ("inline", inline)):
        store = open_store(tmp_path / f"{name}.db", tmp_path / name)
        with store.transaction():
            store.add(doc, SourceLocation(kind="eml", path="/m.eml"), consume=True)
        store.close()
        stored.append(_texts(tmp_path / f"{name}.db"))
    assert stored[0] == stored[1]
    assert ("ok", 15, 0, None, "mailatlas-clean", "na\u00efve caf\u00e9 \u2014 \u65e5\u672c") in (
        stored[0]
    )
