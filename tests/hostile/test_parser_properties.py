"""Property tests: whatever bytes arrive, the parser returns a document or a ParseError.

Random bytes, and real corpus messages with mutated headers, boundaries, transfer
encodings and charsets, and truncations. Nothing else may escape ``parse_bytes``: no
``UnicodeError``, ``IndexError``, ``RecursionError``... The examples are derandomised
(hypothesis' database off, fixed seed per test) so CI sees the same inputs every run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailatlas_clean import ParseError, parse_bytes
from mailatlas_core._model import ParsedDocument

from tests.conftest import corpus_files

from .helpers import check_parsed

SETTINGS = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Small .eml files only: the mutations matter, not the size (keeps the suite fast).
_CORPUS = [p for p in corpus_files() if p.suffix == ".eml" and p.stat().st_size < 40_000]


def parse_or_parse_error(raw: bytes) -> ParsedDocument | None:
    """Parse ``raw``; a ParseError is an accepted outcome, anything else fails the test."""
    try:
        doc = parse_bytes(raw)
    except ParseError as exc:
        assert exc.reason and "\n" not in exc.reason
        return None
    check_parsed(doc, raw)
    return doc


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    parse_or_parse_error(raw)


_HEADER_NAMES = ["From", "To", "Subject", "Date", "Message-ID", "Content-Type",
                 "Content-Transfer-Encoding", "Content-Disposition", "References",
                 "In-Reply-To", "Received", "Cc", "MIME-Version", "X-Junk"]  # fmt: skip
_NASTY_VALUES = [
    "", " ", "=?utf-8?b?////?=", "=?x-unknown?q?=FF=FE?=", "=?utf-8?q?", "<<<>>>", "\x00",
    "multipart/mixed; boundary=", 'multipart/mixed; boundary="', "multipart/alternative",
    "text/html; charset=utf-7", "text/plain; charset*=utf-8''%FF%FE", "base64", "x-uuencode",
    "quoted-printable", "attachment; filename*0*=utf-8''%E2%82; filename*1=../..",
    "message/rfc822", "\xff\xfe", "a" * 5000, "Mon, 99 Foo 99999 99:99:99 +9999",
    "undisclosed-recipients:;", '"unterminated <a@b', "=?utf-8?b?" + "QUFB" * 300 + "?=",
]  # fmt: skip


def _header_line(name: str, value: str) -> bytes:
    return f"{name}: {value}\n".encode("utf-8", "surrogateescape")


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(_CORPUS)).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["header", "boundary", "encoding", "truncate", "splice", "flip"])
        )
        if kind == "header":
            name = draw(st.sampled_from(_HEADER_NAMES))
            value = draw(st.one_of(st.sampled_from(_NASTY_VALUES), st.text(max_size=80)))
            at = draw(st.sampled_from([0, raw.find(b"\n") + 1, raw.find(b"\n\n") + 1]))
            raw = raw[:at] + _header_line(name, value) + raw[at:]
        elif kind == "boundary":
            found = re.search(rb'boundary="?([^";\r\n]+)', raw, re.IGNORECASE)
            if found:
                old = found.group(1)
                new = draw(st.sampled_from([b"", b"-", old[:-1], old + b"--", b'"', b"\x00"]))
                count = draw(st.integers(0, 3))  # 0 means all
                raw = raw.replace(b"--" + old, b"--" + new, count or -1)
        elif kind == "encoding":
            swap = draw(
                st.sampled_from(
                    [(b"base64", b"quoted-printable"), (b"quoted-printable", b"base64"),
                     (b"7bit", b"base64"), (b"utf-8", b"x-no-such-charset"),
                     (b"us-ascii", b"utf-16"), (b"iso-8859-1", b"utf-32")]
                )
            )  # fmt: skip
            raw = re.sub(re.escape(swap[0]), swap[1], raw, flags=re.IGNORECASE)
        elif kind == "truncate":
            raw = raw[: draw(st.integers(0, len(raw)))]
        elif kind == "splice":
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.binary(max_size=64)) + raw[at:]
        else:
            if raw:
                at = draw(st.integers(0, len(raw) - 1))
                raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


@pytest.mark.slow
@pytest.mark.corpus
@SETTINGS
@given(mutated_corpus())
def test_mutated_corpus_messages(corpus_dir: Path, raw: bytes) -> None:
    parse_or_parse_error(raw)


@pytest.mark.corpus
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_truncated_corpus_message_keeps_exact_raw(corpus_dir: Path, data: st.DataObject) -> None:
    """A message cut anywhere still stores exactly the bytes it was given."""
    raw = data.draw(st.sampled_from(_CORPUS)).read_bytes()
    cut = raw[: data.draw(st.integers(1, len(raw)))]
    doc = parse_or_parse_error(cut)
    if doc is not None:
        assert doc.raw == cut
        assert json.loads(json.dumps(doc.metadata)) == doc.metadata
