"""Real attachment files built in the tests: a PDF printed by the installed Chromium,
DOCX/XLSX/PPTX written with python-docx, openpyxl and python-pptx, and ODT, CSV, HTML
and plain text built by hand (an ODT is a ZIP of a few XML files)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

from mailatlas_cli._export.pdf import chromium_command, make_profile

from tests.cli.conftest import chromium_or_skip

__all__ = [
    "csv_bytes",
    "docx_bytes",
    "html_bytes",
    "message_with",
    "odt_bytes",
    "pdf_bytes",
    "pptx_bytes",
    "xlsx_bytes",
]

ODT_MIME = "application/vnd.oasis.opendocument.text"


def pdf_bytes(text: str) -> bytes:
    """A real PDF: a page holding ``text`` printed by headless Chromium."""
    browser = chromium_or_skip()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        page = root / "page.html"
        page.write_text(f"<!doctype html><meta charset=utf-8><p>{text}</p>", "utf-8")
        make_profile(root / "profile")
        out = root / "out.pdf"
        subprocess.run(
            chromium_command(browser, page, out, root / "profile"),
            capture_output=True,
            timeout=180,
            check=True,
            env={"HOME": str(root), "PATH": "/usr/bin:/bin"},
        )
        return out.read_bytes()


def docx_bytes(paragraph: str, cells: tuple[str, str] = ("price", "42 EUR")) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = cells
    document.sections[0].header.paragraphs[0].text = "Confidential header"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Invoices"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx_bytes(title: str, body: str, notes: str) -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = title
    slide.placeholders[1].text = body
    slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def odt_bytes(heading: str, paragraph: str, cells: tuple[str, str]) -> bytes:
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">
<office:body><office:text>
<text:h text:outline-level="1">{heading}</text:h>
<text:p>{paragraph.replace("  ", "<text:s/> ")}<text:tab/>end<text:line-break/>next line</text:p>
<table:table table:name="T"><table:table-row>
<table:table-cell><text:p>{cells[0]}</text:p></table:table-cell>
<table:table-cell table:number-columns-repeated="1000000"><text:p>{cells[1]}</text:p>
</table:table-cell>
</table:table-row></table:table>
</office:text></office:body></office:document-content>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", ODT_MIME, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            f'manifest:full-path="/" manifest:media-type="{ODT_MIME}"/></manifest:manifest>',
        )
    return out.getvalue()


def csv_bytes() -> bytes:
    return b'sku,description,amount\nA-1,"Widget, large",12.50\nB-2,Gadget,3\n'


def html_bytes(text: str) -> bytes:
    return (
        f"<html><head><script>document.write('scripted')</script></head>"
        f"<body><h1>Minutes</h1><p>{text}</p><img src='http://tracker.test/x.png'></body></html>"
    ).encode()


def message_with(
    attachments: list[tuple[str, str, bytes]], *, subject: str = "Files", body: str = "See files."
) -> bytes:
    """A message carrying ``(filename, mime type, bytes)`` attachments."""
    msg = EmailMessage()
    msg["From"] = "Ada <ada@example.test>"
    msg["To"] = "Bob <bob@example.test>"
    msg["Subject"] = subject
    msg["Date"] = "Wed, 01 May 2024 09:30:00 +0000"
    msg["Message-ID"] = f"<{hashlib.sha256(subject.encode()).hexdigest()[:16]}@example.test>"
    msg.set_content(body)
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)
