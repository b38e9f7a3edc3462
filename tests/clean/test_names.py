"""Asset names are safe single path components, bounded, NFC and unique per message."""

from __future__ import annotations

import base64
import unicodedata

import pytest
from mailatlas_clean import parse_bytes
from mailatlas_clean.parser._names import MAX_NAME_BYTES, NameAllocator, safe_filename

from .helpers import check_document


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x", "x"),
        ("/etc/passwd", "passwd"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("a\x00b.txt", "a_b.txt"),
        ("tab\there\nnew.txt", "tab_here_new.txt"),
        ("..", "fallback.bin"),
        (".", "fallback.bin"),
        ("", "fallback.bin"),
        (None, "fallback.bin"),
        ("...", "fallback.bin"),
        ("../", "fallback.bin"),
        ("  report .pdf  ", "report .pdf"),
        ('what?*:"<>|.txt', "what_______.txt"),
        ("CON.txt", "_CON.txt"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFD in, NFC out
        ("日本語のファイル.pdf", "日本語のファイル.pdf"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, "fallback.bin") == expected


def test_long_names_are_bounded_and_keep_the_extension() -> None:
    for stem in ("a" * 10_000, "é" * 10_000, "日" * 10_000):
        name = safe_filename(stem + ".pdf", "x")
        assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
        assert name.endswith(".pdf")
        name.encode("utf-8").decode("utf-8")  # cut on a character boundary


def test_allocator_makes_case_and_nfc_collisions_unique() -> None:
    names = NameAllocator()
    got = [
        names.allocate(safe_filename(n, "x"))
        for n in ("Report.pdf", "report.pdf", "REPORT.PDF", "e\u0301.txt", "\u00e9.txt", "a" * 400)
    ]
    assert got[:5] == ["Report.pdf", "report-2.pdf", "REPORT-3.PDF", "é.txt", "é-2.txt"]
    assert len({g.casefold() for g in got}) == len(got)
    assert all(len(g.encode()) <= MAX_NAME_BYTES for g in got)
    long_again = names.allocate(got[5])
    assert long_again != got[5] and len(long_again.encode()) <= MAX_NAME_BYTES


def test_hostile_names_in_a_real_message() -> None:
    hostile = ["../../x", "/abs/path.txt", "..\\..\\win.txt", "nul\x00byte.txt", "a" * 10_000,
               "Same.txt", "same.txt", ".."]  # fmt: skip
    parts = "".join(
        f"--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
        f'filename="{name}"\nContent-Transfer-Encoding: base64\n\n'
        f"{base64.b64encode(name.encode()[:20]).decode()}\n"
        for name in hostile
    )
    raw = (
        'From: a@example.com\nSubject: names\nContent-Type: multipart/mixed; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\nbody\n{parts}--B--\n"
    ).encode()
    doc = parse_bytes(raw)
    check_document(doc, raw)
    names = [a.filename for a in doc.assets]
    assert names[:4] == ["x", "path.txt", "win.txt", "nulbyte.txt"]
    assert names[5:7] == ["Same.txt", "same-2.txt"]
    assert names[7] == "part-8.bin"
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
