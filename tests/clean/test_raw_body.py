"""A large single-part body is read from the raw bytes, not fed to the stdlib parser
(``mailatlas_clean.parser._rawbody``): the documents must be exactly those the parser makes.

Every corpus message, and each content type of the memory bench, is parsed both ways
(the raw path forced on from the first byte, and turned off) and compared field by
field; plus the cases where the raw path must step aside (a multipart, an attached
message, a damaged header block, a second multipart Content-Type, base64 the stdlib
would pad) and the payload the tree still gives to any other reader.
"""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import mailatlas_clean.parser._parse as parse_module
import mailatlas_clean.parser._rawbody as rawbody_module
import pytest
from mailatlas_clean import parse_bytes
from mailatlas_clean.parser._rawbody import RawBodyMessage, Span, body_start, flat_leaf
from mailatlas_core._model import ParsedDocument

from devkit.fidelity import read_corpus
from devkit.memshapes import SHAPES

OFF = 1 << 62


def _fields(doc: ParsedDocument) -> dict[str, object]:
    return {
        "id": doc.id,
        "subject": doc.subject,
        "body_text": doc.body_text,
        "body_html": doc.body_html,
        "metadata": doc.metadata,
        "assets": [(a.filename, a.mime_type, a.data, a.kind, a.cid) for a in doc.assets],
        "sender": (doc.sender_name, doc.sender_email),
    }


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def one(threshold: int) -> object:
        monkeypatch.setattr(parse_module, "_DIRECT_BODY", threshold)
        try:
            return _fields(parse_bytes(raw))
        except Exception as exc:  # a message that is not mail fails the same way
            return repr(exc)

    return one(0), one(OFF)


@pytest.mark.corpus
def test_every_corpus_message_parses_the_same_both_ways(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    differ = []
    count = 0
    for name, raw in read_corpus(corpus_dir):
        count += 1
        direct, fed = _both(raw, monkeypatch)
        if direct != fed:
            differ.append(name)
    assert count > 400
    assert differ == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_bench_shape_parses_the_same_both_ways(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, fed = _both(SHAPES[shape](200_000), monkeypatch)
    assert direct == fed


HEAD = b"From: a@example.com\nSubject: s\nMessage-ID: <m@x>\n"
BODY = "Grüße, ünïcödé: déjà vu\n".encode() * 4000


@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + BODY,
        HEAD + b"Content-Type: text/plain; charset=latin-1\r\n\r\n" + BODY.replace(b"\n", b"\r\n"),
        HEAD + b"Content-Type: text/html\n\n<p>" + BODY + b"\xff\xfe",
        HEAD + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(BODY),
        HEAD + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(BODY)[:-2] + b"=\n",
        HEAD + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(BODY) + b"!!\n",
        HEAD + b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n" + BODY,
        HEAD + b"Content-Transfer-Encoding: quoted-printable\n\n=C3=BC=\n" + BODY,
        HEAD + b"Content-Type: message/rfc822\n\n" + HEAD + b"\n" + BODY,
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + BODY + b"\n--b--\n",
        HEAD + b"Content-Type: multipart/mixed\n\n" + BODY,
        HEAD + b"Content-Type: text/plain\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\n\n" + BODY + b"\n--b--\n",
        HEAD + b"Subject : spaced\nContent-Type: text/plain\n\n" + BODY,
        HEAD + b"not a header line\n\n" + BODY,
        HEAD + b" folded\n\tagain\n\r\n" + BODY,
        b"From someone Mon Jan  1 00:00:00 2024\n" + HEAD + b"\n" + BODY,
        HEAD + b"\n",
        HEAD,
    ],
)
def test_edge_cases_parse_the_same_both_ways(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    direct, fed = _both(raw, monkeypatch)
    assert direct == fed


def test_body_start_is_where_the_stdlib_parser_starts_the_body() -> None:
    for raw in (HEAD + b"\n" + BODY, HEAD + b"\r\n" + BODY, HEAD + b"\r" + BODY):
        start = body_start(raw)
        assert start is not None
        stdlib = message_from_bytes(raw)._payload  # the str itself, not re-decoded
        assert raw[start:].decode("ascii", "surrogateescape") == stdlib
    assert body_start(HEAD) is None  # no body
    assert body_start(HEAD + b"oops\n\n" + BODY) is None  # the parser notes a defect


@pytest.mark.parametrize("by_offset", [False, True])
def test_the_payload_is_the_parsers_str_for_any_other_reader(by_offset: bool) -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + BODY
    start = body_start(raw)
    assert start is not None
    message = message_from_bytes(raw[:start], _class=RawBodyMessage)
    assert isinstance(message, RawBodyMessage)
    if by_offset:
        message.attach_body(Span(raw, start, len(raw)))  # the raw bytes, not a copy
    else:
        message.attach_body(raw[start:])
    assert not message.is_multipart()
    assert message.get_payload() == message_from_bytes(raw).get_payload()
    assert message.get_payload(decode=True) == BODY
    assert message.as_bytes() == message_from_bytes(raw).as_bytes()


def _flat_or_error(part: Message, flatten: bool) -> object:
    try:
        if flatten:
            flat = flat_leaf(part, 0)
            return flat.join() if flat is not None else None
        return part.as_bytes()
    except Exception as exc:  # the same header that cannot be written fails both ways
        return type(exc).__name__


def _leaves_flatten_as_the_generator_writes(data: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    """Compare flat_leaf, joined, with as_bytes on every leaf of the three trees of
    ``data`` (the stdlib's, and the ones with bodies read from the raw bytes: sliced
    out of them, or held by offset)."""
    monkeypatch.setattr(parse_module, "_DIRECT_BODY", 0)
    count = 0
    trees = [message_from_bytes(data), parse_module._feed(data)]
    trees.append(parse_module._feed(data, by_offset=True))
    for tree in trees:
        for part in tree.walk():
            assert flat_leaf(part, 1 << 62) is None  # below the size asked for
            flat = _flat_or_error(part, True)
            if flat is None:
                continue  # not a leaf
            count += 1
            assert flat == _flat_or_error(part, False)
    return count


@pytest.mark.corpus
def test_flat_leaf_writes_what_the_generator_writes_for_every_corpus_leaf(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 0
    for _name, raw in read_corpus(corpus_dir):
        data = parse_module.parser_input(raw)
        count += _leaves_flatten_as_the_generator_writes(data, monkeypatch)
    assert count > 400


@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + BODY,
        HEAD + b"Content-Type: text/plain\r\n\r\n" + BODY.replace(b"\n", b"\r\n"),
        HEAD + b"Content-Type: text/plain\r\r" + BODY.replace(b"\n", b"\r") + b"\r\n\n",
        HEAD + b"Subject: \xc3\xa9t\xc3\xa9 " + b"long words " * 30 + b"\n\n" + BODY,
        HEAD + b"Content-Type: text/html\n\nFrom here\n>From there\n" + BODY + b"no end",
        HEAD + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(BODY),
        HEAD + b"\n",
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822"
        b"\n\n" + HEAD + b"\r\n" + BODY.replace(b"\n", b"\r\n") + b"\n--b--\n",
        HEAD + b"Content-Type: message/rfc822\n\n" + HEAD + b"X-Eight: \xff\n\n" + BODY,
    ],
)
def test_flat_leaf_writes_what_the_generator_writes(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _leaves_flatten_as_the_generator_writes(raw, monkeypatch) >= 1


@pytest.mark.parametrize("piece", [1, 2, 3, 5, 64])
@pytest.mark.parametrize(
    "body",
    [
        BODY.replace(b"\n", b"\r\n"),
        BODY.replace(b"\n", b"\r"),
        b"\r\n\r\r\n\n\r" + BODY.replace(b"\n", b"\r\r\n") + b"\r",
        b"a\rb\r\nc\nd\r\r\r\n\r\n",
    ],
)
def test_flat_leaf_makes_every_line_end_lf_whichever_piece_a_pair_falls_in(
    body: bytes, piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CR and CRLF line ends of a long body are made LF a piece at a time (not by
    one ``re.sub`` holding every line); a pair split across two pieces stays one line
    end. Small pieces put every boundary on every kind of line end."""
    monkeypatch.setattr(rawbody_module, "LINE_END_PIECE", piece)
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + body
    assert _leaves_flatten_as_the_generator_writes(raw, monkeypatch) >= 1
