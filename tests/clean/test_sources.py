"""iter_mbox, iter_maildir and peek_message_id, including the mbox quirks."""

from __future__ import annotations

from pathlib import Path

import pytest
from mailatlas_clean import ParseError, iter_maildir, iter_mbox, parse_bytes, peek_message_id

from devkit.mailgen import generate_messages, write_mbox

M1 = b"From: a@example.com\nSubject: one\nMessage-ID: <1@x>\n\nFirst body.\n"
M2 = b"From: b@example.com\nSubject: two\nMessage-ID: <2@x>\n\nSecond body.\n"
ENV = b"From sender@example.com Mon May  6 10:00:00 2024\n"


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "box.mbox"
    path.write_bytes(data)
    return path


def test_basic_split_offsets_and_envelopes(tmp_path: Path) -> None:
    path = write(tmp_path, ENV + M1 + b"\n" + ENV + M2 + b"\n")
    got = list(iter_mbox(path))
    assert [m.raw for m in got] == [M1, M2]
    assert [m.location.offset for m in got] == [0, len(ENV + M1) + 1]
    assert got[0].envelope == ENV.decode().rstrip("\n")
    assert got[0].location.kind == "mbox" and got[0].location.path == str(path.resolve())


def test_mboxrd_unescaping_and_unescaped_body_from_lines(tmp_path: Path) -> None:
    body = b"Subject: s\n\nHello\n\nFrom time to time\n>From the top\n>>From deeper\n"
    path = write(tmp_path, ENV + body + b"\n" + ENV + M2)
    got = list(iter_mbox(path))
    assert len(got) == 2
    assert got[0].raw == b"Subject: s\n\nHello\n\nFrom time to time\nFrom the top\n>From deeper\n"


def test_crlf_bom_and_leading_blank_lines(tmp_path: Path) -> None:
    crlf = lambda b: b.replace(b"\n", b"\r\n")  # noqa: E731
    path = write(tmp_path, b"\xef\xbb\xbf\r\n\r\n" + crlf(ENV + M1 + b"\n" + ENV + M2))
    got = list(iter_mbox(path))
    assert [m.raw for m in got] == [crlf(M1), crlf(M2)]
    assert got[0].location.offset == 7
    assert parse_bytes(got[1].raw).subject == "two"


def test_separator_without_blank_line_and_content_length(tmp_path: Path) -> None:
    body = b"line one\nFrom - Mon Jan  1 00:00:00 2024\nFrom: inside@example.com\n"
    head = b"Subject: cl\nContent-Length: %d\n\n" % len(body)
    path = write(tmp_path, b"From - \n" + head + body + b"From - \n" + M2)
    got = list(iter_mbox(path))
    assert [m.raw for m in got] == [head + body, M2]


def test_wrong_content_length_falls_back_to_separators(tmp_path: Path) -> None:
    head = b"Subject: cl\nContent-Length: 99999\n\n"
    path = write(tmp_path, ENV + head + b"short\n\n" + ENV + M2)
    assert [m.raw for m in iter_mbox(path)] == [head + b"short\n", M2]


def test_not_an_mbox_and_empty(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="not an mbox"):
        list(iter_mbox(write(tmp_path, M1)))
    assert list(iter_mbox(write(tmp_path, b""))) == []
    with pytest.raises(ParseError, match="cannot read"):
        list(iter_mbox(tmp_path / "missing.mbox"))


def test_maildir(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new"):
        (tmp_path / sub).mkdir(parents=True)
    (tmp_path / "cur" / "1.host:2,S").write_bytes(M1)
    (tmp_path / "new" / "2.host").write_bytes(M2)
    (tmp_path / "tmp" / "3.host").write_bytes(b"half written")
    (tmp_path / ".Sent" / "cur" / "4.host:2,S").write_bytes(M1)
    got = list(iter_maildir(tmp_path))
    assert [m.raw for m in got] == [M1, M2, M1]
    assert got[1].location.kind == "maildir"
    assert got[1].location.path == str(tmp_path / "new" / "2.host")
    with pytest.raises(ParseError, match="not a Maildir"):
        list(iter_maildir(tmp_path / "cur"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (M1, "1@x"),
        (b"Message-Id:\n  <folded@example.com>\nSubject: x\n\n", "folded@example.com"),
        (b"MESSAGE-ID: < spaced@x >\r\n\r\nMessage-ID: <body@x>\r\n", "spaced@x"),
        (b"Subject: none\n\nMessage-ID: <in-body@x>\n", None),
        (ENV + b"Message-ID: <after-envelope@x>\n\n", "after-envelope@x"),
        (b"", None),
    ],
)
def test_peek_message_id(raw: bytes, expected: str | None) -> None:
    assert peek_message_id(raw) == expected


def test_mailgen_round_trips_through_iter_mbox(tmp_path: Path) -> None:
    path = tmp_path / "gen.mbox"
    write_mbox(path, 300, seed=5)
    expected = list(generate_messages(300, seed=5))
    assert expected == list(generate_messages(300, seed=5))  # deterministic
    got = [m.raw for m in iter_mbox(path)]
    assert len(got) == 300
    assert [g.rstrip(b"\n") for g in got] == [e.rstrip(b"\n") for e in expected]
    ids = [parse_bytes(raw).message_id for raw in got]
    assert len(set(ids)) == 300


def test_a_huge_content_length_is_not_trusted(tmp_path: Path) -> None:
    """A lying Content-Length must neither allocate its size nor swallow the next message."""
    import resource

    mbox = tmp_path / "lies.mbox"
    mbox.write_bytes(
        b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\nContent-Length: 999999999999\n\n"
        b"hello\n\nFrom a@b Mon Jan  1 00:00:00 2024\nSubject: two\n\nworld\n"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    messages = list(iter_mbox(mbox))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [m.raw.split(b"\n", 2)[0] for m in messages] == [b"Subject: one", b"Subject: two"]
    assert grown_mb < 50
