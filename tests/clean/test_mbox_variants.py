"""Real-world From_ separator variants (docs/mbox.md), and our counts against the stdlib's
``mailbox.mbox`` on every mbox of the corpus, with each difference explained."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from mailatlas_clean import iter_mbox, parse_bytes

from tests.conftest import CORPUS_DIR, corpus_files


def _message(n: int, body: str = "") -> str:
    return (
        f"From: user{n} at example.org (User {n})\nSubject: Message {n}\n"
        f"Message-ID: <m{n}@example.org>\n\n{body or f'Body {n}.'}\n"
    )


def _split(tmp_path: Path, data: str | bytes) -> list[bytes]:
    path = tmp_path / "box.mbox"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return [m.raw for m in iter_mbox(path)]


@pytest.mark.parametrize(
    "envelope",
    [
        "From user at example.org  Wed Feb  1 19:06:04 2006",  # Mailman / pipermail
        "From user at example.org Wed Feb 01 19:06:04 2006",
        "From user@example.org Wed Feb  1 19:06:04 2006",  # classic ctime
        "From user@example.org  Wed, 1 Feb 2006 19:06:04 +0000",  # RFC 2822 date
        "From user@example.org Feb  1 19:06:04 2006",  # no weekday
        "From user@example.org 2006-02-01 19:06:04",  # ISO date
        "From user@example.org 1138820764",  # Unix timestamp
        "From user@example.org",  # no date at all
        "From - Wed Feb  1 19:06:04 2006",  # Thunderbird
        "From MAILER-DAEMON Wed Feb  1 19:06:04 2006",
        "From user@example.org\tWed Feb  1 19:06:04 2006",  # a tab before the date
    ],
)
def test_envelope_variants_split(tmp_path: Path, envelope: str) -> None:
    text = "".join(f"{envelope}\n{_message(n)}\n" for n in range(3))
    raws = _split(tmp_path, text)
    assert [parse_bytes(r).subject for r in raws] == ["Message 0", "Message 1", "Message 2"]


def test_pipermail_archive_with_crlf(tmp_path: Path) -> None:
    text = "".join(
        f"From user{n} at example.org  Wed Feb  1 19:06:0{n} 2006\n{_message(n)}\n"
        for n in range(4)
    )
    raws = _split(tmp_path, text.replace("\n", "\r\n"))
    assert len(raws) == 4
    assert raws[1].startswith(b"From: user1 at example.org (User 1)\r\n")
    assert raws[1].endswith(b"Body 1.\r\n")


def test_unescaped_body_from_lines_still_stay_in_their_message(tmp_path: Path) -> None:
    body = (
        "My favourite film:\n\nFrom Russia with love\n\n"
        "From user at example.org I heard nothing.\n"
        "From 2006 onwards, sales grew.\nThanks."
    )
    text = (
        f"From user0 at example.org  Wed Feb  1 19:06:04 2006\n{_message(0, body)}\n"
        f"From user1 at example.org  Wed Feb  1 19:07:04 2006\n{_message(1)}"
    )
    raws = _split(tmp_path, text)
    assert len(raws) == 2
    assert parse_bytes(raws[0]).body_text == body


# -- against the standard library ----------------------------------------------------------

# Every mbox of the corpus where our count differs from mailbox.mbox, and why. The stdlib
# splits at every line that starts with "From " (and misses a first line behind a BOM).
STDLIB_DIFFERENCES = {
    "cpython-email/mailbox_01.mbox": (
        1,
        2,
        'an unescaped "From time to time" body line, followed by text, not a header: '
        "the stdlib splits there, we do not",
    ),
    "mimekit/mbox__unmunged.mbox": (
        2,
        3,
        'two unescaped "From Russia with love" body lines (the stdlib splits at both) and '
        "a UTF-8 BOM before the first separator (the stdlib does not see that separator)",
    ),
}


def _mboxes() -> list[Path]:
    return [p for p in corpus_files() if p.suffix == ".mbox"]


@pytest.mark.corpus
@pytest.mark.parametrize("path", _mboxes(), ids=lambda p: p.relative_to(CORPUS_DIR).as_posix())
def test_message_counts_against_the_stdlib(corpus_dir: Path, path: Path) -> None:
    rel = path.relative_to(corpus_dir).as_posix()
    ours = sum(1 for _ in iter_mbox(path))
    box = mailbox.mbox(str(path), create=False)
    try:
        theirs = len(box.keys())
    finally:
        box.close()
    if rel in STDLIB_DIFFERENCES:
        expected_ours, expected_theirs, _why = STDLIB_DIFFERENCES[rel]
        assert (ours, theirs) == (expected_ours, expected_theirs)
    else:
        assert ours == theirs


@pytest.mark.corpus
def test_every_mbox_of_the_corpus_is_compared(corpus_dir: Path) -> None:
    names = {p.relative_to(corpus_dir).as_posix() for p in _mboxes()}
    assert len(names) == 5
    assert set(STDLIB_DIFFERENCES) <= names


def test_a_message_over_the_size_limit_is_skipped_without_its_bytes(tmp_path: Path) -> None:
    env = b"From a@example.com Mon Jan  1 00:00:00 2024\n"
    first, last = b"From: a@x\nSubject: one\n\nhi\n", b"From: c@x\nSubject: three\n\nbye\n"
    # A line longer than the limit, read in pieces: the "From " inside it, at a piece's
    # start, must not be taken for a separator.
    big = b"From: b@x\nSubject: two\n\n" + b"y" * 1001 + b"From b@x Mon Jan  1\nX: y\n"
    path = tmp_path / "box.mbox"
    path.write_bytes(env + first + b"\n" + env + big + b"\n" + env + last)
    got = list(iter_mbox(path, max_message_bytes=1000))
    assert [(m.raw, m.oversize is not None) for m in got] == [
        (first, False),
        (b"", True),
        (last, False),
    ]
    assert got[1].oversize == len(big) + 1
    assert [m.raw for m in iter_mbox(path)] == [first, big, last]
