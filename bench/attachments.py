"""Benchmark: attachment text extraction throughput, per type (MB of file per second).

    hatch run bench:python bench/attachments.py            # generated files + corpus PDFs
    hatch run bench:python bench/attachments.py --runs 5

Files are generated here with the libraries that write them (python-docx, openpyxl,
python-pptx), by hand (ODT, CSV, HTML, plain text), and the PDFs are a Chromium print
of generated text plus the corpus' two real PDFs (``$MAILATLAS_CORPUS``). Each file is
read ``--runs`` times with :func:`mailatlas_clean.extract_text` in this process, one
core; the median run is reported as input MB/s and characters of text per second.
"""

from __future__ import annotations

import argparse
import email
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mailatlas_clean import ExtractLimits, extract_text  # noqa: E402

from bench._common import report  # noqa: E402

WORDS = [
    "invoice", "budget", "quarterly", "engine", "delivery", "contract", "clause", "payment",
    "schedule", "warehouse", "shipment", "customer", "supplier", "meeting", "minutes",
    "agenda", "decision",
]  # fmt: skip


def _sentence(i: int, n: int = 14) -> str:
    return " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(n)) + f" {i}."


def make_pdf(paragraphs: int) -> bytes:
    from mailatlas_cli._export.pdf import chromium_command, find_browser, make_profile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        page = root / "p.html"
        body = "".join(f"<p>{_sentence(i, 30)}</p>" for i in range(paragraphs))
        page.write_text(f"<!doctype html><meta charset=utf-8>{body}", "utf-8")
        make_profile(root / "profile")
        out = root / "o.pdf"
        subprocess.run(
            chromium_command(find_browser(), page, out, root / "profile"),
            capture_output=True,
            timeout=300,
            check=True,
            env={"HOME": tmp, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        return out.read_bytes()


def make_docx(paragraphs: int) -> bytes:
    import docx

    document = docx.Document()
    for i in range(paragraphs):
        document.add_paragraph(_sentence(i, 30))
    table = document.add_table(rows=50, cols=4)
    for r in range(50):
        for c in range(4):
            table.cell(r, c).text = f"{WORDS[(r + c) % len(WORDS)]} {r * c}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for i in range(rows):
        sheet.append([f"INV-{i}", WORDS[i % len(WORDS)], i * 1.5, f"2024-05-{i % 28 + 1:02d}", i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pptx(slides: int) -> bytes:
    import pptx

    deck = pptx.Presentation()
    for i in range(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Slide {i}: {WORDS[i % len(WORDS)]}"
        slide.placeholders[1].text = "\n".join(_sentence(i * 10 + k) for k in range(8))
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_odt(paragraphs: int) -> bytes:
    body = "".join(f"<text:p>{_sentence(i, 30)}</text:p>" for i in range(paragraphs))
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    return out.getvalue()


def make_html(paragraphs: int) -> bytes:
    body = "".join(f"<p>{_sentence(i, 30)} <a href='https://x.test/{i}'>link</a></p>"
                   for i in range(paragraphs))  # fmt: skip
    return f"<html><body><h1>Report</h1>{body}</body></html>".encode()


def make_csv(rows: int) -> bytes:
    lines = ["id,item,amount,note"] + [
        f'{i},{WORDS[i % len(WORDS)]},{i * 1.5},"{_sentence(i, 6)}"' for i in range(rows)
    ]
    return "\n".join(lines).encode()


def make_text(paragraphs: int) -> bytes:
    return "\n\n".join(_sentence(i, 30) for i in range(paragraphs)).encode()


def corpus_pdfs() -> list[tuple[str, bytes]]:
    corpus = Path(os.environ.get("MAILATLAS_CORPUS", REPO.parent / "shared" / "corpus"))
    found = []
    for name in ("mail-parser/mail_test_2.eml", "mail-parser/mail_test_10.eml"):
        path = corpus / name
        if not path.is_file():
            continue
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if part.get_content_type() == "application/pdf":
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    found.append((f"corpus {part.get_filename()}", data))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    makers: list[tuple[str, str, Callable[[], bytes]]] = [
        ("pdf (Chromium, 400 paragraphs)", "application/pdf", lambda: make_pdf(400)),
        ("docx (2000 paragraphs + table)", "x/docx", lambda: make_docx(2000)),
        ("xlsx (20000 rows x 5)", "x/xlsx", lambda: make_xlsx(20_000)),
        ("pptx (60 slides)", "x/pptx", lambda: make_pptx(60)),
        ("odt (4000 paragraphs)", "x/odt", lambda: make_odt(4000)),
        ("html (4000 paragraphs)", "text/html", lambda: make_html(4000)),
        ("csv (50000 rows)", "text/csv", lambda: make_csv(50_000)),
        ("text (8000 paragraphs)", "text/plain", lambda: make_text(8000)),
    ]
    names = {"x/docx": "f.docx", "x/xlsx": "f.xlsx", "x/pptx": "f.pptx", "x/odt": "f.odt"}
    files = [(label, mime, make()) for label, mime, make in makers]
    files += [(label, "application/pdf", data) for label, data in corpus_pdfs()]
    limits = ExtractLimits(time_budget_s=600, max_text_chars=50_000_000)
    for label, mime, data in files:
        filename = names.get(mime, "f")
        mime = "application/octet-stream" if mime.startswith("x/") else mime
        times, text = [], None
        for _ in range(args.runs):
            start = time.perf_counter()
            text = extract_text(data, mime, filename, limits)
            times.append(time.perf_counter() - start)
        assert text is not None and text.status == "ok", (label, text)
        wall = statistics.median(times)
        report(
            "attachments",
            file=label,
            mb=round(len(data) / 1e6, 3),
            chars=text.chars,
            median_s=round(wall, 3),
            mb_per_s=round(len(data) / 1e6 / wall, 2),
            kchars_per_s=round(text.chars / 1e3 / wall, 1),
        )


if __name__ == "__main__":
    main()
