"""A message's part tree read by offset (``mailatlas_clean.parser._multipart``) is the
stdlib parser's tree: same structure, headers, payloads, defects, preamble, epilogue
and flattened bytes, for every corpus message (each message of every mbox too), each
memory-bench shape, and generated hostile cases; and the documents built from it are
the documents built from the stdlib's tree.
"""

from __future__ import annotations

import base64
from email.message import Message
from pathlib import Path

import mailatlas_clean.parser._parse as parse_module
import pytest
from mailatlas_clean import parse_bytes
from mailatlas_clean.parser._multipart import MAX_DEPTH, SPAN_LEAST, read_tree
from mailatlas_clean.parser._rawbody import RawBodyMessage, Span

from devkit.fidelity import read_corpus
from devkit.memshapes import SHAPES

from .test_raw_body import _both, _fields

OFF = 1 << 62


def _stdlib(data: bytes) -> Message:
    parser = parse_module.BytesFeedParser()
    parser.feed(data)
    return parser.close()


def _safe(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except Exception as exc:  # the same failure both ways is the same behaviour
        return type(exc).__name__


def _describe(part: Message) -> object:
    """Everything a reader of the tree can see of ``part`` (and its children)."""
    multipart = part.is_multipart()
    payload = part.get_payload()
    return {
        "headers": list(part.raw_items()),
        "unixfrom": part.get_unixfrom(),
        "default_type": part.get_default_type(),
        "content_type": part.get_content_type(),
        "defects": [type(d).__name__ for d in part.defects],
        "preamble": part.preamble,
        "epilogue": part.epilogue,
        "multipart": multipart,
        "payload": [_describe(c) for c in payload] if multipart else payload,
        "decoded": None if multipart else _safe(lambda: part.get_payload(decode=True)),
    }


def _same_tree(data: bytes) -> bool | None:
    """Whether the tree read by offset equals the stdlib's (``None``: it was left to
    the stdlib parser)."""
    ours = read_tree(data, by_offset=True)
    if ours is None:
        return None
    theirs = _stdlib(data)
    if _describe(ours) != _describe(theirs):
        return False
    # A fresh pair: reading the payloads above decoded the raw bodies already.
    ours, theirs = read_tree(data, by_offset=True), _stdlib(data)
    assert ours is not None
    return _safe(ours.as_bytes) == _safe(theirs.as_bytes)


@pytest.mark.corpus
def test_every_corpus_message_reads_to_the_stdlib_tree(corpus_dir: Path) -> None:
    differ, read, count = [], 0, 0
    for name, raw in read_corpus(corpus_dir):
        count += 1
        same = _same_tree(parse_module.parser_input(raw))
        if same is False:
            differ.append(name)
        read += same is True
    assert count > 400
    assert differ == []
    assert read > count * 0.9  # the stdlib fallback is the exception, not the rule


@pytest.mark.corpus
def test_every_corpus_message_parses_to_the_same_document(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def one(raw: bytes, threshold: int) -> object:
        monkeypatch.setattr(parse_module, "_DIRECT_BODY", threshold)
        try:
            return _fields(parse_bytes(raw))
        except Exception as exc:  # a message that is not mail fails the same way
            return repr(exc)

    differ = [name for name, raw in read_corpus(corpus_dir) if one(raw, 0) != one(raw, OFF)]
    assert differ == []


def _same_document_with_attached_messages_joined_late(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> bool:
    """Every attached message flattened as a large one is (``_LARGE_PART`` 0): held by
    offset, it is joined to its header block after its walk; from the stdlib's tree,
    before. The documents must be the same."""
    monkeypatch.setattr("mailatlas_clean.parser._mime._LARGE_PART", 0)
    by_offset, by_stdlib = _both(raw, monkeypatch)
    return by_offset == by_stdlib


@pytest.mark.corpus
def test_every_corpus_message_is_the_same_with_attached_messages_joined_after_their_walk(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    differ = [
        name
        for name, raw in read_corpus(corpus_dir)
        if not _same_document_with_attached_messages_joined_late(raw, monkeypatch)
    ]
    assert differ == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_bench_shape_reads_to_the_stdlib_tree(shape: str) -> None:
    assert _same_tree(SHAPES[shape](300_000)) is True


HEAD = b"From: a@example.com\nSubject: s\nMessage-ID: <m@x>\n"
TEXT = b"Line one\nline two =C3=A9\n"
B64 = base64.encodebytes(b"\x00binary\xff" * 50)


def _mp(boundary: bytes, *parts: bytes, close: bytes = b"", ctype: bytes = b"mixed") -> bytes:
    body = b"".join(b"--" + boundary + b"\n" + p + b"\n" for p in parts)
    head = b"Content-Type: multipart/" + ctype + b'; boundary="' + boundary + b'"\n\n'
    return head + body + close


def _deep(levels: int) -> bytes:
    inner = b"Content-Type: text/plain\n\n" + TEXT
    for level in range(levels):
        b = b"b%d" % level
        inner = _mp(b, inner, close=b"--" + b + b"--\n")
    return HEAD + inner


LEAF = b"Content-Type: text/plain\n\n" + TEXT
ATTACH = b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + B64

CASES = {
    "plain multipart": HEAD + _mp(b"X", LEAF, ATTACH, close=b"--X--\n"),
    "preamble and epilogue": HEAD
    + b'Content-Type: multipart/mixed; boundary="X"\n\npre\namble\n\n--X\n'
    + LEAF
    + b"\n--X--\nepi\nlogue\n",
    "blank-line epilogue": HEAD + _mp(b"X", LEAF, close=b"--X--\n\n\n"),
    "no newline after close": HEAD + _mp(b"X", LEAF, close=b"--X--"),
    "boundary with trailing blanks": HEAD
    + b'Content-Type: multipart/mixed; boundary="X"\n\n--X \t\n'
    + LEAF
    + b"\n--X--  \n",
    "boundary line with more text": HEAD + _mp(b"X", LEAF + b"\n--Xmore\n--X-\n", close=b"--X--\n"),
    "prefix boundaries": HEAD
    + _mp(b"ab", _mp(b"abc", LEAF, close=b"--abc--\n"), LEAF, close=b"--ab--\n"),
    "outer boundary ends an inner multipart": HEAD
    + _mp(b"out", _mp(b"in", LEAF, LEAF), LEAF, close=b"--out--\n"),
    "missing close boundary": HEAD + _mp(b"X", LEAF, ATTACH),
    "unterminated nested multipart": HEAD + _mp(b"X", _mp(b"Y", LEAF, LEAF)),
    "consecutive boundary lines": HEAD
    + b'Content-Type: multipart/mixed; boundary="X"\n\n--X\n--X\n--X--\n'
    + LEAF
    + b"\n--X--\n",
    "empty parts": HEAD + _mp(b"X", b"", b"\n", b"Content-Type: text/plain\n", close=b"--X--\n"),
    "part header without blank line": HEAD
    + _mp(b"X", b"Content-Type: text/plain", close=b"--X--\n"),
    "part with a malformed header line": HEAD
    + _mp(b"X", b"Content-Type: text/plain\nnot a header\nbody\n", close=b"--X--\n"),
    "CRLF": (HEAD + _mp(b"X", LEAF, ATTACH, close=b"--X--\n")).replace(b"\n", b"\r\n"),
    "CR only": (HEAD + _mp(b"X", LEAF, ATTACH, close=b"--X--\n")).replace(b"\n", b"\r"),
    "mixed line ends": HEAD
    + _mp(b"X", LEAF.replace(b"\n", b"\r\n"), ATTACH.replace(b"\n", b"\r"), close=b"--X--\r\n"),
    "boundary inside a base64 line": HEAD
    + _mp(b"X", ATTACH.replace(b"\n", b"--X\n", 3), close=b"--X--\n"),
    "boundary mid-line": HEAD + _mp(b"X", LEAF + b"text --X\n", close=b"--X--\n"),
    "2,000 parts": HEAD + _mp(b"X", *[LEAF] * 1000, *[ATTACH] * 1000, close=b"--X--\n"),
    "nested 64 deep": _deep(64),
    "nested deeper than the reader goes": _deep(MAX_DEPTH + 5),
    "attached message": HEAD
    + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + HEAD + b"\n" + TEXT, close=b"--X--\n"),
    "attached multipart message": HEAD
    + _mp(
        b"X",
        b"Content-Type: message/rfc822\n\n" + HEAD + _mp(b"Y", LEAF, ATTACH, close=b"--Y--\n"),
        close=b"--X--\n",
    ),
    "attached message, unterminated inner": HEAD
    + _mp(b"X", b"Content-Type: message/rfc822\n\n" + HEAD + _mp(b"Y", LEAF), close=b"--X--\n"),
    "top-level message/rfc822": HEAD + b"Content-Type: message/rfc822\n\n" + HEAD + b"\n" + TEXT,
    "digest": HEAD
    + _mp(b"X", HEAD + b"\n" + TEXT, b"\n" + HEAD + b"\n" + TEXT, LEAF, ctype=b"digest"),
    "delivery status": HEAD
    + _mp(
        b"X",
        LEAF,
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nAction: failed\n",
        close=b"--X--\n",
    ),
    "no boundary": HEAD + b"Content-Type: multipart/mixed\n\n--X\n" + LEAF,
    "no start boundary": HEAD + b'Content-Type: multipart/mixed; boundary="X"\n\n' + LEAF,
    "close boundary first": HEAD + b'Content-Type: multipart/mixed; boundary="X"\n\n--X--\n' + LEAF,
    "8-bit boundary": HEAD + _mp("é".encode(), LEAF, close="--é--\n".encode()),
    "quoted boundary with a space": HEAD + _mp(b"a b", LEAF, close=b"--a b--\n"),
    "base64-encoded multipart": HEAD
    + b"Content-Transfer-Encoding: base64\n"
    + _mp(b"X", LEAF, close=b"--X--\n"),
    "second multipart content type": HEAD
    + b"Content-Type: text/plain\n"
    + _mp(b"X", LEAF, close=b"--X--\n"),
    "mbox From line and 8-bit headers": b"From someone Mon Jan  1 00:00:00 2024\n"
    + HEAD
    + b"X-Eight: \xff\xfe\n"
    + _mp(b"X", b'Content-Type: text/plain; name="\xc3\xa9.txt"\n\n\xe9t\xe9\n', close=b"--X--\n"),
    "blank lines before the headers": b"\n\n" + HEAD + _mp(b"X", LEAF, close=b"--X--\n"),
    "continuation first": b" folded\n" + HEAD + _mp(b"X", LEAF, close=b"--X--\n"),
    "no body": HEAD,
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_cases_read_to_the_stdlib_tree(name: str) -> None:
    assert _same_tree(CASES[name]) is not False


@pytest.mark.parametrize(
    "name",
    [
        "delivery status",
        "no boundary",
        "no start boundary",
        "close boundary first",
        "8-bit boundary",
        "nested deeper than the reader goes",
    ],
)
def test_what_the_reader_leaves_to_the_stdlib(name: str) -> None:
    assert read_tree(CASES[name]) is None


def test_leaves_hold_their_bodies_as_raw_bytes() -> None:
    tree = read_tree(CASES["2,000 parts"])
    assert tree is not None
    leaves = [p for p in tree.walk() if not p.is_multipart()]
    assert len(leaves) == 2000
    assert all(isinstance(p, RawBodyMessage) and p.__dict__["_raw_body"] for p in leaves)


def test_large_leaves_hold_their_bodies_as_spans_of_the_raw_message_when_read_by_offset() -> None:
    large = TEXT * (SPAN_LEAST // len(TEXT) + 1)
    data = HEAD + _mp(b"X", LEAF, b"Content-Type: text/plain\n\n" + large, close=b"--X--\n")
    for by_offset in (False, True):
        tree = read_tree(data, by_offset=by_offset)
        assert tree is not None
        held = [p.__dict__["_raw_body"] for p in tree.walk() if not p.is_multipart()]
        # By offset, the large body is not copied out of the message; the small one is
        # a slice of its own either way, as is every body of a tree not read by offset.
        assert [type(h) for h in held] == [bytes, Span if by_offset else bytes]
        if by_offset:
            assert held[1].data is data
            held[1] = bytes(held[1].view())
        assert held == [TEXT, large]


INNER = HEAD.replace(b"<m@x>", b"<inner@x>") + b"Content-Type: text/plain; charset=utf-8\n"
LATE_JOINS = {
    "LF": HEAD + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT * 9),
    "CRLF": (
        HEAD + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT * 9)
    ).replace(b"\n", b"\r\n"),
    "large LF (held by offset)": HEAD
    + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT * 3000),
    "large CRLF (held by offset)": (
        HEAD + _mp(b"X", b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT * 3000)
    ).replace(b"\n", b"\r\n"),
    "CR": (HEAD + _mp(b"X", b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT)).replace(
        b"\n", b"\r"
    ),
    "mixed line ends in the attached body": HEAD
    + _mp(b"X", b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + b"a\r\nb\rc\n\r\r\n"),
    "only an attached message (its text is the body)": HEAD
    + _mp(b"X", b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT, close=b"--X--\n"),
    "top-level message/rfc822": CASES["top-level message/rfc822"],
    "attached quoted-printable text": HEAD
    + _mp(
        b"X",
        b"Content-Type: message/rfc822\n\n"
        + INNER
        + b"Content-Transfer-Encoding: quoted-printable\n\n"
        + TEXT,
    ),
    "attached message with an empty body": HEAD
    + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + INNER + b"\n"),
    "attached message with 8-bit headers": HEAD
    + _mp(b"X", b"Content-Type: message/rfc822\n\n" + INNER + b"X-Eight: \xff\n\n" + TEXT),
    "digest": CASES["digest"],
    "BOM before the message (not read by offset)": b"\xef\xbb\xbf"
    + HEAD
    + _mp(b"X", LEAF, b"Content-Type: message/rfc822\n\n" + INNER + b"\n" + TEXT),
}


@pytest.mark.parametrize("name", sorted(LATE_JOINS))
def test_an_attached_message_joined_after_its_walk_is_stored_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _same_document_with_attached_messages_joined_late(LATE_JOINS[name], monkeypatch)
