"""The corpus' real attachments: every one gets a text reading, the readable ones their
text, the broken ones a reason; none stops its message."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from mailatlas_clean import ParseError, parse_bytes
from mailatlas_cli import MailAtlas

from tests.backends import BACKENDS, spec_for

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _assets(corpus_dir: Path, name: str) -> dict[str, tuple[str, str, str]]:
    doc = parse_bytes((corpus_dir / name).read_bytes())
    out = {}
    for asset in doc.assets:
        assert asset.text is not None
        out[asset.filename] = (asset.text.status, asset.text.text or "", asset.text.error or "")
    return out


def test_corpus_documents_read(corpus_dir: Path) -> None:
    swift = _assets(corpus_dir, "php-mime-mail-parser/issue274.eml")
    for name in ("docx", "odt", "pdf"):
        status, text, _ = swift[f"Hello from SwiftMailer.{name}"]
        assert status == "ok" and "Hello from SwiftMailer\xa0!" in text, name
    status, text, _ = _assets(corpus_dir, "mail-parser/mail_test_2.eml")["Bollettino.pdf"]
    assert status == "ok" and "BOLLETTINO METEOROLOGICO" in text
    status, text, _ = _assets(corpus_dir, "mail-parser/mail_test_10.eml")[
        "Move To Eight ZWEP6227F.pdf"
    ]
    assert status == "ok" and "IBM Power Systems" in text and "--- page 10 ---" in text
    # A PDF cut short in the corpus: failed, with the reader's reason.
    status, text, error = _assets(corpus_dir, "mikel-mail/attachment_emails__attachment_pdf.eml")[
        "broken.pdf"
    ]
    assert (status, text) == ("failed", "")
    assert error == "the PDF could not be read (PdfStreamError: Stream has ended unexpectedly)"


def test_every_corpus_attachment_gets_a_reading(corpus_dir: Path) -> None:
    statuses: Counter[str] = Counter()
    for path in sorted(corpus_dir.rglob("*.eml")):
        raw = path.read_bytes()
        if b"name=" not in raw.lower():  # no named part: nothing to read (and faster)
            continue
        try:
            doc = parse_bytes(raw)
        except ParseError:
            continue
        for asset in doc.assets:
            assert asset.text is not None, (path, asset.filename)
            statuses[asset.text.status] += 1
            if asset.text.status == "failed":
                assert asset.text.error, (path, asset.filename)
    assert statuses["ok"] >= 390 and statuses["failed"] >= 10 and statuses["unsupported"] > 0
    assert set(statuses) <= {"ok", "failed", "unsupported"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_corpus_attachment_text_is_searchable(
    backend: str, request: pytest.FixtureRequest, corpus_dir: Path, tmp_path: Path
) -> None:
    files = [corpus_dir / "mail-parser" / f"mail_test_{n}.eml" for n in (2, 12)]
    spec = spec_for(backend, request, tmp_path, migrated=True)
    with MailAtlas(spec.db, spec.workspace) as atlas:
        stored = atlas.ingest_eml(files)
        (hit,) = atlas.list_documents(query='"bollettino meteorologico"')
        assert hit.id == stored[0].id and hit.matched_in is not None
        assert "attachment" in hit.matched_in
        asset = atlas.get_asset(hit.matched_asset_ids[0])
        assert asset.filename == "Bollettino.pdf"
