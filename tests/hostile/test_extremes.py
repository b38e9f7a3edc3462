"""Extremes: huge header blocks, deep nesting, thousands of parts, huge attachments.

Each either stores a document whose raw bytes are kept byte for byte, or is recorded
as a failure with a plain reason; none crashes the run. The two multi-hundred-megabyte
cases run the real CLI in a subprocess and measure its peak resident memory
(``RUSAGE_CHILDREN`` of a small interpreter that starts it). The bound, documented in
docs/reliability.md: peak RSS at most ``MEMORY_FACTOR`` times the message size
(measured: about 3.8x for a 283 MB message with a 200 MB attachment, down from 8.7x
before the parser fed the stdlib slices).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_cli import MailAtlas

from .helpers import REPO, assert_consistent, cli_command, cli_env

MEMORY_FACTOR = 4.5
MB = 1024 * 1024


def _ingest(tmp_path: Path, raw: bytes, name: str = "m.eml") -> tuple[MailAtlas, dict[str, object]]:
    path = tmp_path / name
    path.write_bytes(raw)
    atlas = MailAtlas(tmp_path / "store.db", tmp_path / "ws")
    return atlas, atlas.ingest_eml([path]).to_dict()


def _stored_raw(tmp_path: Path, doc_id: str) -> bytes:
    atlas = MailAtlas(tmp_path / "store.db", tmp_path / "ws")
    return Path(atlas.get_document(doc_id).raw_path).read_bytes()


def test_300_kb_header_block(tmp_path: Path) -> None:
    pads = b"".join(b"X-Pad-%04d: %s\n" % (i, b"v" * 90) for i in range(3000))
    raw = b"From: a@example.com\nSubject: big headers\nMessage-ID: <hdr@x>\n" + pads + b"\nbody\n"
    assert len(raw) > 300_000
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert (out["status"], out["ingested_count"]) == ("ok", 1)
        doc = atlas.get_document(out["document_refs"][0]["id"])  # type: ignore[index]
        assert (doc.subject, doc.body_text, doc.message_id) == ("big headers", "body", "hdr@x")
        assert _stored_raw(tmp_path, doc.id) == raw


def test_one_300_kb_folded_header(tmp_path: Path) -> None:
    raw = b"From: a@example.com\nSubject: s\nX-Long: start\n" + b" more\n" * 60_000 + b"\nbody\n"
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert out["ingested_count"] == 1
        doc = atlas.get_document(out["document_refs"][0]["id"])  # type: ignore[index]
        assert doc.body_text == "body" and _stored_raw(tmp_path, doc.id) == raw


def _nested(depth: int) -> bytes:
    head = b"From: a@example.com\nSubject: nested\nContent-Type: multipart/mixed; boundary=b0\n\n"
    opens = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i - 1, i)
        for i in range(1, depth)
    )
    leaf = b"--b%d\nContent-Type: text/plain\n\ndeep body\n" % (depth - 1)
    closes = b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    return head + opens + leaf + closes


def test_mime_nested_200_deep_is_stored_with_a_defect(tmp_path: Path) -> None:
    raw = _nested(200)
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert (out["status"], out["ingested_count"]) == ("ok", 1)
        doc = atlas.get_document(out["document_refs"][0]["id"])  # type: ignore[index]
        assert any("nesting deeper than 64" in d for d in doc.metadata["defects"])
        assert _stored_raw(tmp_path, doc.id) == raw  # nothing lost: the raw bytes are kept


@pytest.mark.slow
def test_mime_nested_2000_deep_is_a_clean_failure(tmp_path: Path) -> None:
    raw = _nested(2000)
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert (out["status"], out["failed_count"]) == ("error", 1)
        assert out["failures"][0]["error"] == "the message is nested too deeply to parse"  # type: ignore[index]
        [failure] = list(atlas.store().iter_failures())
        assert failure["reason"] == "the message is nested too deeply to parse"


@pytest.mark.slow
def test_10000_parts_with_one_name(tmp_path: Path) -> None:
    parts = b"".join(
        b"--B\nContent-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename=f.bin\n\npart %d\n" % i
        for i in range(10_000)
    )
    raw = (
        b"From: a@example.com\nSubject: many\nMessage-ID: <many@x>\n"
        b"Content-Type: multipart/mixed; boundary=B\n\n" + parts + b"--B--\n"
    )
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert out["ingested_count"] == 1
        doc = atlas.get_document(out["document_refs"][0]["id"])  # type: ignore[index]
        assert len(doc.assets) == 10_000
        assert len({a.filename for a in doc.assets}) == 10_000
        folder = tmp_path / "ws" / "assets" / doc.id
        assert len(list(folder.iterdir())) == 10_000
        assert (folder / "f.bin").read_bytes() == b"part 0"
        assert (folder / "f-10000.bin").read_bytes() == b"part 9999"
    assert assert_consistent(tmp_path / "store.db", tmp_path / "ws") == 1


@pytest.mark.parametrize(
    "raw",
    [b"\nJust a body, no headers\n", b"Just a body with no headers at all\n", b"\n\n\n"],
)
def test_message_without_headers_is_a_failure_with_its_bytes_kept(
    tmp_path: Path, raw: bytes
) -> None:
    atlas, out = _ingest(tmp_path, raw)
    with atlas:
        assert (out["status"], out["ingested_count"], out["failed_count"]) == ("error", 0, 1)
        reason = out["failures"][0]["error"]  # type: ignore[index]
        assert reason in (
            "the input does not start with an email header (expected 'Name: value')",
            "the input is empty",
        )
        kept = list((tmp_path / "ws" / "failures").iterdir())
        assert [p.read_bytes() for p in kept] == [raw]


def _write_big_message(path: Path, attachment_mb: int, *, mbox: bool) -> bytes:
    """A message with one random attachment of ``attachment_mb`` MB; returns its sha256."""
    chunk = os.urandom(57 * 1024)
    encoded = base64.encodebytes(chunk)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        if mbox:
            fh.write(b"From sender@example.com Mon Jan  1 00:00:00 2024\n")
        fh.write(
            b"From: a@example.com\nSubject: big\nMessage-ID: <big@x>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
            b"see attached\n--B\nContent-Type: application/octet-stream\n"
            b"Content-Disposition: attachment; filename=big.bin\n"
            b"Content-Transfer-Encoding: base64\n\n"
        )
        for _ in range(attachment_mb * MB // len(chunk)):
            fh.write(encoded)
            digest.update(chunk)
        fh.write(b"--B--\n")
    return digest.digest()


# Runs the CLI from a small interpreter and writes the CLI's peak RSS (KB) to argv[1]. On
# Linux a process started by pytest itself would carry pytest's own peak across exec in
# ru_maxrss; the small interpreter's peak is all its child can inherit.
_MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:], stderr=subprocess.DEVNULL)
with open(sys.argv[1], "w") as fh:
    fh.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _run_measured(args: list[str], home: Path) -> tuple[int, str, int]:
    """Run the CLI; return (exit code, stdout, peak RSS in bytes of that process)."""
    peak_file = home / "peak-rss-kb"
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, str(peak_file), *cli_command(*args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=cli_env(home),
        cwd=REPO,
    )
    out, _ = proc.communicate()
    return proc.returncode, out.decode(), int(peak_file.read_text()) * 1024


@pytest.mark.heavy
@pytest.mark.slow
def test_200_mb_attachment_memory_is_bounded(tmp_path: Path) -> None:
    src = tmp_path / "big.eml"
    digest = _write_big_message(src, 200, mbox=False)
    size = src.stat().st_size
    code, out, peak = _run_measured(["ingest", "eml", str(src)], tmp_path / "home")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["ingested_count"] == 1
    doc_id = summary["document_refs"][0]["id"]
    stored = tmp_path / "home" / "workspace" / "assets" / doc_id / "big.bin"
    assert hashlib.sha256(stored.read_bytes()).digest() == digest
    assert peak < MEMORY_FACTOR * size, f"peak RSS {peak / MB:.0f} MB for {size / MB:.0f} MB"


@pytest.mark.heavy
@pytest.mark.slow
def test_mbox_of_one_100_mb_message(tmp_path: Path) -> None:
    src = tmp_path / "one.mbox"
    digest = _write_big_message(src, 72, mbox=True)  # 72 MB decoded, ~100 MB encoded
    size = src.stat().st_size
    assert size > 100 * 1000 * 1000
    code, out, peak = _run_measured(["ingest", "mbox", str(src)], tmp_path / "home")
    assert code == 0, out
    summary = json.loads(out)
    assert (summary["ingested_count"], summary["failed_count"]) == (1, 0)
    doc_id = summary["document_refs"][0]["id"]
    ws = tmp_path / "home" / "workspace"
    stored = ws / "assets" / doc_id / "big.bin"
    assert hashlib.sha256(stored.read_bytes()).digest() == digest
    expected = src.read_bytes().split(b"\n", 1)[1]  # byte for byte, minus the From_ line
    raw = (ws / "raw" / f"{hashlib.sha256(expected).hexdigest()}.eml").read_bytes()
    assert raw == expected
    assert peak < MEMORY_FACTOR * size, f"peak RSS {peak / MB:.0f} MB for {size / MB:.0f} MB"


@pytest.mark.parametrize(
    ("tail", "defect"),
    [
        (b"", None),
        (b"QUJD\n", None),
        (b"QUI=\n", None),
        (b"QQ\n", "bad padding"),  # missing padding
        (b"QU*J\n", "invalid characters"),
        (b"QQ==QUJD\n", "invalid characters"),  # data after padding
    ],
)
def test_large_base64_part_decodes_exactly_like_the_stdlib(tail: bytes, defect: str | None) -> None:
    import email.message

    from mailatlas_clean import parse_bytes

    body = base64.encodebytes(os.urandom(1_200_000)) + tail
    raw = (
        b"From: a@example.com\nSubject: b64\nContent-Type: multipart/mixed; boundary=B\n\n"
        b"--B\nContent-Type: text/plain\n\nhi\n--B\nContent-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename=x.bin\nContent-Transfer-Encoding: base64\n\n"
        + body
        + b"--B--\n"
    )
    attachment = email.message_from_bytes(raw).get_payload(1)
    assert isinstance(attachment, email.message.Message)
    expected = attachment.get_payload(decode=True)
    doc = parse_bytes(raw)
    assert doc.assets[0].data == expected
    notes = [d for d in doc.metadata["defects"] if "base64" in d]
    assert (defect in notes[0]) if defect else notes == [], notes
