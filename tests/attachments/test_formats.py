"""Each supported type, generated for real, read back through the message parser."""

from __future__ import annotations

import pytest
from mailatlas_clean import ParserConfig, parse_bytes

from .files import (
    ODT_MIME,
    csv_bytes,
    docx_bytes,
    html_bytes,
    message_with,
    odt_bytes,
    pdf_bytes,
    pptx_bytes,
    xlsx_bytes,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _texts(raw: bytes) -> dict[str, tuple[str, str]]:
    doc = parse_bytes(raw)
    out = {}
    for asset in doc.assets:
        assert asset.text is not None
        out[asset.filename] = (asset.text.status, asset.text.text or "")
    return out


@pytest.mark.chromium
@pytest.mark.slow
def test_pdf_printed_by_chromium() -> None:
    pdf = pdf_bytes("Invoice 2024-117 for the Babbage engine, total 1234 GBP")
    texts = _texts(message_with([("invoice.pdf", "application/pdf", pdf)]))
    status, text = texts["invoice.pdf"]
    assert status == "ok"
    assert "Invoice 2024-117 for the Babbage engine" in text and "1234 GBP" in text


def test_office_and_odf_documents() -> None:
    raw = message_with(
        [
            ("contract.docx", DOCX, docx_bytes("The parties agree on a zebra crossing.")),
            ("ledger.xlsx", XLSX, xlsx_bytes([["invoice", "total"], ["INV-77", 99.5, "=1+2"]])),
            ("deck.pptx", PPTX, pptx_bytes("Quarterly plan", "Ship the gizmo", "Speaker aside")),
            ("minutes.odt", ODT_MIME, odt_bytes("Agenda", "Budget  review", ("alpha", "beta"))),
        ]
    )
    texts = _texts(raw)
    assert texts["contract.docx"] == (
        "ok",
        "The parties agree on a zebra crossing.\nprice\t42 EUR\nConfidential header",
    )
    # Formulas are never evaluated: a cell saved without a value has none.
    assert texts["ledger.xlsx"] == ("ok", "--- sheet Invoices ---\ninvoice\ttotal\nINV-77\t99.5")
    assert texts["deck.pptx"] == (
        "ok",
        "--- slide 1 ---\nQuarterly plan\nShip the gizmo\nSpeaker aside",
    )
    # A cell repeated a million times is read once, not expanded.
    assert texts["minutes.odt"] == ("ok", "Agenda\nBudget  review\tend\nnext line\nalpha\tbeta")


def test_html_csv_and_plain_text() -> None:
    raw = message_with(
        [
            ("notes.html", "text/html", html_bytes("Decided: <b>adopt</b> the plan")),
            ("items.csv", "text/csv", csv_bytes()),
            ("readme.txt", "text/plain", "Grüße aus Köln\n".encode()),
            ("data.bin", "application/octet-stream", b"\x00\x01binary"),
        ]
    )
    texts = _texts(raw)
    status, text = texts["notes.html"]
    assert status == "ok" and "Decided: adopt the plan" in text and "Minutes" in text
    assert "scripted" not in text and "tracker" not in text
    assert texts["items.csv"] == (
        "ok",
        "sku\tdescription\tamount\nA-1\tWidget, large\t12.50\nB-2\tGadget\t3",
    )
    assert texts["readme.txt"] == ("ok", "Grüße aus Köln")
    assert texts["data.bin"] == ("unsupported", "")


def test_text_is_cut_at_the_limit_and_says_so() -> None:
    from mailatlas_clean import ExtractLimits

    raw = message_with([("long.txt", "text/plain", b"word " * 10_000)])
    config = ParserConfig(attachments=ExtractLimits(max_text_chars=1000))
    (asset,) = parse_bytes(raw, config).assets
    assert asset.text is not None
    assert asset.text.status == "ok" and asset.text.truncated
    assert asset.text.chars == len(asset.text.text or "") <= 1000


def test_extraction_can_be_switched_off() -> None:
    from mailatlas_clean import ExtractLimits

    raw = message_with([("readme.txt", "text/plain", b"hello")])
    (asset,) = parse_bytes(raw, ParserConfig(attachments=ExtractLimits(enabled=False))).assets
    assert asset.text is None
