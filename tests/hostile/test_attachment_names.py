"""Attachment names that try to escape the workspace or collide.

Through a real ingest: every asset file lies directly inside ``assets/<id>/``, nothing
is written anywhere else, and no asset overwrites another (each file still has the
bytes and sha256 recorded for its own asset).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailatlas_cli import MailAtlas

from .helpers import assert_consistent

HOSTILE = [
    "../../x",
    "../../../../../../tmp/escaped.txt",
    "/etc/passwd",
    "/abs/path.txt",
    "..\\..\\win.txt",
    "C:\\Windows\\System32\\evil.exe",
    "\\\\server\\share\\unc.txt",
    "nul\x00byte.txt",
    "ctrl\x01\x1b[31mred\x7f.txt",
    "new\nline.txt",
    "a" * 10_000,
    "b" * 10_000 + ".pdf",
    "Report.pdf",
    "report.pdf",
    "REPORT.PDF",
    "e\u0301te\u0301.txt",  # NFD
    "\u00e9t\u00e9.txt",  # the same name, NFC
    "\u212b.txt",  # ANGSTROM SIGN; NFC turns it into Å
    "\u00c5.txt",
    "..",
    ".",
    "",
    "CON",
    ".hidden",
    "x/",
]


def _message(names: list[str], tag: str) -> tuple[bytes, list[bytes]]:
    bodies = [f"{tag} attachment {i}: {n[:30]!r}".encode() for i, n in enumerate(names)]
    parts = "".join(
        "--B\nContent-Type: application/octet-stream\n"
        f"Content-Disposition: attachment; filename*=utf-8''{_pct(name)}\n"
        "Content-Transfer-Encoding: base64\n\n"
        f"{base64.b64encode(body).decode()}\n"
        for name, body in zip(names, bodies, strict=True)
    )
    raw = (
        f"From: a@example.com\nSubject: names {tag}\nMessage-ID: <{tag}@example.com>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\nbody\n{parts}--B--\n"
    ).encode()
    return raw, bodies


def _pct(name: str) -> str:
    return "".join(
        chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "._-") else f"%{b:02X}"
        for b in name.encode("utf-8", "surrogatepass")
    )


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _check_assets(db: Path, ws: Path, doc_id: str, bodies: list[bytes]) -> list[str]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT ordinal, file_path, sha256 FROM assets WHERE document_id = ? ORDER BY ordinal",
        (doc_id,),
    ).fetchall()
    conn.close()
    assert len(rows) == len(bodies)
    folder = (ws / "assets" / doc_id).resolve()
    names = []
    for (_ordinal, file_path, digest), body in zip(rows, bodies, strict=True):
        path = (ws / file_path).resolve()
        assert path.parent == folder, file_path  # directly inside assets/<id>/
        assert not (ws / file_path).is_symlink()
        assert path.read_bytes() == body  # its own bytes: nothing overwrote it
        assert hashlib.sha256(body).hexdigest() == digest
        assert len(path.name.encode()) <= 255
        assert unicodedata.is_normalized("NFC", path.name)
        names.append(path.name)
    assert len({n.casefold() for n in names}) == len(names)
    assert {p.name for p in folder.iterdir()} == set(names)  # no stray or temp files
    return names


def test_hostile_names_stay_inside_and_never_collide(tmp_path: Path) -> None:
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    raw, bodies = _message(HOSTILE, "hostile")
    src = tmp_path / "in" / "m.eml"
    src.parent.mkdir()
    src.write_bytes(raw)
    with MailAtlas(db, ws) as atlas:
        result = atlas.ingest_eml([src])
    assert (result.ingested_count, result.failed_count) == (1, 0), result.failures
    names = _check_assets(db, ws, result[0].id, bodies)
    assert names[0] == "x" and names[2] == "passwd" and names[4] == "win.txt"
    assert names[12:15] == ["Report.pdf", "report-2.pdf", "REPORT-3.PDF"]
    assert names[15:17] == ["été.txt", "été-2.txt"]
    assert names[17:19] == ["Å.txt", "Å-2.txt"]
    assert names[19:22] == ["part-20.bin", "part-21.bin", "part-22.bin"]
    # Nothing was written outside the workspace: only the store and its input exist.
    assert {p.relative_to(tmp_path).parts[0] for p in _files_under(tmp_path)} <= {
        "store.db",
        "store.db-wal",
        "store.db-shm",
        "ws",
        "in",
    }
    assert not Path("/tmp/escaped.txt").exists()
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()
    assert assert_consistent(db, ws) == 1


def test_raw_eight_bit_names_keep_their_text(tmp_path: Path) -> None:
    """Raw UTF-8 in a quoted or RFC 2231 name (common, though not RFC-conformant) is
    read as text, not replaced (it once became "��t��.txt", or "ufffd.txt")."""
    parts = b"".join(
        b"--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
        + disposition
        + b"\n\nbody %d\n" % i
        for i, disposition in enumerate(
            [
                b'filename="\xc3\xa9t\xc3\xa9.txt"',
                b"filename*=utf-8''\xe6\x97\xa5\xe6\x9c\xac.txt",
                b"filename*=iso-8859-1''caf\xe9.txt",
                b'filename="../\xc3\xa9vil/../x\xc3\xa9.txt"',
            ]
        )
    )
    raw = b"From: a@example.com\nSubject: 8bit\nContent-Type: multipart/mixed; boundary=B\n\n"
    src = tmp_path / "m.eml"
    src.write_bytes(raw + parts + b"--B--\n")
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    with MailAtlas(db, ws) as atlas:
        result = atlas.ingest_eml([src])
    names = _check_assets(db, ws, result[0].id, [b"body %d" % i for i in range(4)])
    assert names == ["été.txt", "日本.txt", "café.txt", "xé.txt"]


def test_a_planted_symlink_does_not_redirect_asset_writes(tmp_path: Path) -> None:
    """An assets/<id> directory that is a link elsewhere is refused, not followed."""
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    raw, bodies = _message(["a.txt"], "planted")
    src = tmp_path / "m.eml"
    src.write_bytes(raw)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from mailatlas_clean import parse_bytes

    doc_id = parse_bytes(raw).id
    (ws / "assets").mkdir(parents=True)
    os.symlink(elsewhere, ws / "assets" / doc_id)
    with MailAtlas(db, ws) as atlas:
        result = atlas.ingest_eml([src])
    assert list(elsewhere.iterdir()) == []
    assert result.ingested_count == 1
    assert not (ws / "assets" / doc_id).is_symlink()
    _check_assets(db, ws, doc_id, bodies)


_names = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(min_size=0, max_size=300),
        st.text(alphabet="./\\\x00 .aA", max_size=12),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.slow
@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_names)
def test_any_names_stay_inside_and_never_collide(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db, ws = root / "store.db", root / "ws"
        raw, bodies = _message(names, "prop")
        src = root / "m.eml"
        src.write_bytes(raw)
        with MailAtlas(db, ws) as atlas:
            result = atlas.ingest_eml([src])
        assert (result.ingested_count, result.failed_count) == (1, 0), result.failures
        _check_assets(db, ws, result[0].id, bodies)
        assert {p.relative_to(root).parts[0] for p in _files_under(root)} <= {
            "store.db",
            "store.db-wal",
            "store.db-shm",
            "ws",
            "m.eml",
        }
