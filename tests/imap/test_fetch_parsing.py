"""FETCH replies with literals are read by a fast path that must give exactly what
imapclient's general parser gives, or step aside (``None``) and let it answer.

Replies are built the way imaplib hands them over (a ``(text ending in {n}, literal)``
pair per literal, then the rest of the line), from the items a sync asks for and from
shapes only the general parser reads (nested lists, quoted strings in lists, odd
escapes), then mangled byte by byte: whatever the fast path returns must equal the
general parser's answer, and it may only return something when the general parser does.
"""

from __future__ import annotations

import imaplib
import random
from typing import Any

import pytest
from mailatlas_imap._replies import BadReply, _general_fetch, _literal_fetch, parse_fetch

Segment = bytes | tuple[bytes, bytes]

_FLAGS = [b"\\Seen", b"\\Answered", b"$Forwarded", b"Junk", b"7", b"0123", b"NIL", b"\xe9t\xe9"]
_QUOTED = [b"17-Jul-1996 02:44:25 -0700", b'a \\"quoted\\" word', b"back\\\\slash", b""]
_CUTS = [b"", b" ", b"(", b")", b'"', b"\\", b"[", b"]", b"{", b"\r", b"\t", b"x", b"9"]
_LITERALS = [b"", b"x", b"Subject: hi\r\n\r\nbody)\r\n", b"{5}\r\n(", b"\x00\xff" * 40]


def _value(rng: random.Random, odd: bool) -> tuple[bytes, bytes | None]:
    """(text, literal): the text ends in ``{n}`` when a literal follows."""
    kinds = ["number", "nil", "quoted", "list", "literal"]
    if odd:
        kinds += ["nested", "quoted_list", "atom", "bad_escape", "literal8"]
    kind = rng.choice(kinds)
    if kind == "number":
        numbers = [b"0", b"7", b"0123", b"4294967295", str(rng.randrange(10**9)).encode()]
        return rng.choice(numbers), None
    if kind == "nil":
        return b"NIL", None
    if kind == "quoted":
        return b'"' + rng.choice(_QUOTED) + b'"', None
    if kind == "list":
        return b"(" + b" ".join(rng.sample(_FLAGS, rng.randrange(4))) + b")", None
    if kind == "literal":
        literal = rng.choice(_LITERALS)
        return b"{%d}" % len(literal), literal
    if kind == "nested":
        return b'("a" NIL ("b" "c") 12)', None
    if kind == "quoted_list":
        return b'("\\\\Inbox" "My label")', None
    if kind == "atom":
        return b"ATOM", None
    if kind == "bad_escape":
        return b'"a\\qb"', None
    return b"~{3}", b"abc"


_NAMES = [
    b"UID",
    b"RFC822.SIZE",
    b"FLAGS",
    b"MODSEQ",
    b"INTERNALDATE",
    b"BODY[]",
    b"BODY[]<0>",
    b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)]",
    b'body[header.fields ("Message-ID")]',
    b"X-GM-MSGID",
]


def _reply(rng: random.Random, odd: bool) -> list[Segment]:
    """imaplib's data for 1 to 4 FETCH responses."""
    data: list[Segment] = []
    for _ in range(rng.randint(1, 4)):
        text = b"%d (" % rng.randint(1, 500)
        items = rng.randint(1, 5)
        for i in range(items):
            value, literal = _value(rng, odd)
            text += rng.choice(_NAMES) + b" " + value
            if literal is not None:
                data.append((text, literal))
                text = b""
            if i < items - 1:
                text += b" "
        data.append(text + b")")
    return data


def _mangle(rng: random.Random, data: list[Segment]) -> list[Segment]:
    out = list(data)
    i = rng.randrange(len(out))
    segment = out[i]
    text, literal = segment if isinstance(segment, tuple) else (segment, None)
    if literal is not None and rng.random() < 0.2:
        out[i] = (text, literal + b"!")  # a literal of another size than announced
        return out
    pos = rng.randrange(len(text) + 1)
    cut = rng.choice(_CUTS)
    text = text[:pos] + cut + text[pos + rng.randint(0, 2) :]
    out[i] = (text, literal) if literal is not None else text
    return out


def _general(data: list[Segment]) -> list[dict[bytes, Any]] | Exception:
    try:
        return _general_fetch(list(data))
    except (BadReply, imaplib.IMAP4.error, ValueError, AssertionError) as exc:
        return exc


def test_the_fast_path_reads_what_a_sync_fetches() -> None:
    literal = b"Message-ID: <a@b>\r\n\r\n"
    data: list[Segment] = [
        (b"1 (UID 5 RFC822.SIZE 21 FLAGS (\\Seen) BODY[HEADER.FIELDS (MESSAGE-ID)] {21}", literal),
        b' INTERNALDATE "17-Jul-1996 02:44:25 -0700" MODSEQ (9))',
        (b"2 (UID 6 BODY[] {0}", b""),
        b")",
    ]
    fast = _literal_fetch(data)
    assert fast == _general_fetch(data)
    assert fast is not None and fast[0][b"BODY[HEADER.FIELDS (MESSAGE-ID)]"] == literal
    assert fast[0][b"FLAGS"] == (b"\\Seen",) and fast[0][b"MODSEQ"] == (9,)
    assert fast[1] == {b"UID": 6, b"BODY[]": b""}
    parsed = parse_fetch(data, [5, 6], "test")
    assert parsed[5][b"RFC822.SIZE"] == 21 and parsed[6][b"BODY[]"] == b""


@pytest.mark.parametrize("odd", [False, True], ids=["common", "odd"])
def test_the_fast_path_agrees_with_the_general_parser(odd: bool) -> None:
    rng = random.Random(15 + odd)
    fast_used = 0
    for _ in range(4000):
        data = _reply(rng, odd)
        if rng.random() < 0.5:
            data = _mangle(rng, data)
        fast = _literal_fetch(list(data))
        general = _general(data)
        if fast is not None:
            fast_used += 1
            assert not isinstance(general, Exception), (data, general)
            assert fast == general, data
    assert fast_used > (50 if odd else 1000)  # the fast path does take the common replies
