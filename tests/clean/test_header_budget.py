"""A header block above 1 MB is cut before it is parsed (issue 11: memory at most 4x a
message's size for every content type; ``parser/_header_budget.py``).

Before: 4 MB of header fields peaked at 10-24x the message (200,000 ``X-`` fields, a
``Received`` chain, a ``To:`` of 100,000 addresses, a ``References`` of 200,000 ids).
Now the fields a document is made of come first, the others while 1 MB lasts, the raw
message keeps everything and a defect says what was not parsed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_clean import parse_bytes
from mailatlas_clean.parser._header_budget import MAX_FIELD_BYTES, MAX_HEADER_BYTES, bounded_block
from mailatlas_clean.parser._peek import peek_message_id

from devkit.memshapes import HWM_SOURCE

ROOT = Path(__file__).resolve().parents[2]
TAIL = b"From: Ann <a@example.com>\nSubject: the subject\nMessage-ID: <end@example.test>\n"


def _bomb(kind: str, size: int) -> bytes:
    """A message of about ``size`` bytes, almost all of it header fields of ``kind``;
    its From, Subject and Message-ID come last."""
    if kind == "fields":
        head = b"".join(b"X-Custom-%d: value %d\n" % (i, i) for i in range(size // 30))
    elif kind == "received":
        line = b"Received: from host%d.example.test by mx.example.test; 1 Jan 2024 10:00 +0000\n"
        head = b"".join(line % i for i in range(size // 80))
    elif kind == "to":
        people = b",\n ".join(b"Person %d <p%d@example.test>" % (i, i) for i in range(size // 36))
        head = b"To: " + people + b"\n"
    else:  # one References line of ids, no fold
        head = b"References: " + b" ".join(b"<r%d@example.test>" % i for i in range(size // 20))
        head += b"\n"
    return head + TAIL + b"\nthe body\n"


KINDS = ("fields", "received", "to", "references")


def test_a_block_within_the_budget_is_left_as_it_is() -> None:
    block = b"From: a@example.com\nX-A: 1\n"
    assert bounded_block(block) == (block, 0)
    assert bounded_block(b"junk" + block + b"junk", 4, 4 + len(block)) == (block, 0)


def test_the_fields_a_document_is_made_of_come_first_in_their_order() -> None:
    junk = b"".join(b"X-Junk-%d: %s\n" % (i, b"j" * 40) for i in range(40_000))  # 2 MB
    block = b"X-First: 1\n" + junk + b"Subject: s\n" + junk + b"From: a@example.com\n"
    kept, skipped = bounded_block(block)
    assert skipped == len(block) - len(kept) and len(kept) <= MAX_HEADER_BYTES
    lines = kept.split(b"\n")
    assert lines[0] == b"X-First: 1"  # the others while the budget lasts, in order
    assert lines.index(b"Subject: s") < lines.index(b"From: a@example.com") == len(lines) - 2


def test_a_long_field_is_cut_at_a_fold_a_comma_or_a_space() -> None:
    pad = b"".join(b"X-Pad-%d: p\n" % i for i in range(120_000))
    folded = b"To: " + b",\n ".join(b"<p%d@example.test>" % i for i in range(40_000)) + b"\n"
    commas = b"Cc: " + b", ".join(b"<c%d@example.test>" % i for i in range(40_000)) + b"\n"
    spaces = b"References: " + b" ".join(b"<r%d@example.test>" % i for i in range(40_000))
    kept, _ = bounded_block(pad + folded + commas + spaces + b"\n")
    fields = {line.split(b":")[0]: line for line in kept.split(b"\n") if not line[:1].isspace()}
    for name, last in ((b"Cc", b">"), (b"References", b">")):
        assert fields[name].endswith(last) and len(fields[name]) <= MAX_FIELD_BYTES
    to = kept[kept.index(b"To: ") :]
    to = to[: to.index(b"\nCc: ") + 1]
    assert to.endswith(b",\n") and len(to) <= MAX_FIELD_BYTES  # whole lines of the fold


def test_repeated_address_fields_cannot_crowd_out_the_sender_or_subject() -> None:
    cc = b"Cc: " + b",\n ".join(b"<c%d@example.test>" % i for i in range(20_000)) + b"\n"
    raw = cc * 5 + b"Content-Type: text/plain; charset=utf-8\n" + TAIL + b"\nthe body\n"
    doc = parse_bytes(raw)  # 2.3 MB of Cc fields before the rest
    assert (doc.sender_email, doc.subject) == ("a@example.com", "the subject")
    assert doc.metadata["recipients"]["cc"][0]["email"] == "c0@example.test"
    assert doc.body_text == "the body"


def test_a_block_with_cr_line_ends_keeps_its_fields() -> None:
    for end in (b"\r", b"\r\n"):
        received = b"".join(
            b"Received: from host%d.example.test by mx.example.test%s" % (i, end)
            for i in range(30_000)
        )  # 1.5 MB
        tail = TAIL.replace(b"\n", end)
        doc = parse_bytes(received + tail + end + b"the body" + end)
        assert (doc.sender_email, doc.subject) == ("a@example.com", "the subject"), end
        assert [d for d in doc.metadata["defects"] if "header block" in d], end


def test_a_message_of_header_fields_is_parsed_from_what_is_kept() -> None:
    for kind in KINDS:
        raw = _bomb(kind, 3 * MAX_HEADER_BYTES)
        doc = parse_bytes(raw)
        assert (doc.sender_email, doc.subject) == ("a@example.com", "the subject"), kind
        # The peek a sync skips by agrees with the parse, from the whole block.
        assert doc.message_id == peek_message_id(raw) == "end@example.test", kind
        assert doc.body_text == "the body"
        (note,) = [d for d in doc.metadata["defects"] if "header block" in d]
        assert "were not parsed (the raw message keeps them)" in note, kind
        if kind == "to":
            to = doc.metadata["recipients"]["to"]
            assert to[0] == {"name": "Person 0", "email": "p0@example.test"}
            assert 5_000 < len(to) < 10_000  # the field's first 256 KB, whole addresses


def test_a_parts_header_block_is_bounded_too() -> None:
    fields = b"".join(b"X-Part-%d: value\n" % i for i in range(150_000))  # 3 MB
    raw = (
        b"From: a@example.com\nSubject: s\nContent-Type: multipart/mixed; boundary=B\n\n"
        b"--B\n" + fields + b"Content-Type: text/plain\n\nthe part's text\n--B--\n"
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "the part's text"
    assert any("HeaderFieldsSkippedDefect" in d for d in doc.metadata["defects"])


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_a_part_the_stdlib_parser_reads_itself_is_bounded_too(end: bytes) -> None:
    """A delivery report is read by the stdlib parser, not by offset: its parts' header
    blocks are cut in its ``_parse_headers`` (the lines it holds before are not: the
    parse peaked at 13.4x this message before, 9.7x now), its lines split as it splits
    them (CRLF, CR, LF; not at a form feed)."""
    fields = b"".join(b"X-Part-%d: value\x0cmore\n" % i for i in range(120_000))  # 3 MB
    report = b"Reporting-MTA: dns; mx.example.test\n\nFinal-Recipient: rfc822; x@example.test\n"
    raw = (
        b"From: a@example.com\nSubject: s\nContent-Type: multipart/report; boundary=B\n\n"
        b"--B\n" + fields + b"Content-Type: text/plain\n\nthe part's text\n"
        b"--B\nContent-Type: message/delivery-status\n\n" + report + b"--B--\n"
    ).replace(b"\n", end)
    doc = parse_bytes(raw)
    assert doc.body_text == "the part's text"
    assert [d for d in doc.metadata["defects"] if "HeaderFieldsSkippedDefect" in d]


# Parses one kind of message in a fresh interpreter: the parse's peak (VmHWM above the
# message in memory, its high-water mark reset first) as a multiple of its size.
_CHILD = (
    """
import ctypes, sys
from mailatlas_clean import parse_bytes
from tests.clean.test_header_budget import _bomb
"""
    + HWM_SOURCE
    + """
parse_bytes(_bomb("fields", 1000))  # the parser imported
raw = _bomb(sys.argv[1], 8 << 20)
ctypes.CDLL(None).malloc_trim(0)  # the heap its making freed: not counted as room
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = hwm()
doc = parse_bytes(raw)
print((hwm() - base) / len(raw))
"""
)


@pytest.mark.slow  # four interpreters, about 5 s
def test_the_parse_of_8_mb_of_header_fields_stays_within_4x() -> None:
    ratios = {
        kind: float(
            subprocess.run(
                [sys.executable, "-c", _CHILD, kind], cwd=ROOT, stdout=subprocess.PIPE, check=True
            ).stdout
        )
        for kind in KINDS
    }
    # Measured: 0.2-2.9x (the most: 1 MB of small fields kept, 35,000 of them).
    # Before: 10-24x at 4 MB.
    assert all(ratio <= 4.0 for ratio in ratios.values()), ratios
