"""Every message of the real-world corpus parses, or raises ParseError with a reason.

mbox files are checked message by message. Besides "no other exception", each document
must satisfy the invariants in ``helpers.check_document``; no CSS or script text from an
HTML part may reach ``body_text``; ``peek_message_id`` must agree with the parser.
Attachments equal to what Python's ``email`` package decodes, and every MIME leaf
accounted for, are asserted in ``test_corpus_fidelity.py``.
"""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mailatlas_clean import ParseError, ParserConfig, iter_mbox, parse_bytes, peek_message_id
from mailatlas_core._ids import content_hash, document_id, fingerprint

from tests.conftest import CORPUS_DIR, corpus_files

from .helpers import check_document

pytestmark = pytest.mark.corpus

ALL_ON = ParserConfig(
    strip_forwarded_headers=True,
    strip_boilerplate=True,
    strip_link_only_lines=True,
    stop_at_footer=True,
)
# Input that is not an email message at all; everything else must parse.
EXPECTED_PARSE_ERRORS = {
    "cpython-email/msg_19.eml": "does not start with an email header",  # headerless body
    "enmime/testdata__mail__erroneous.eml": "does not start with an email header",
    "mail-parser/mail_outlook_1.msg": "Outlook .msg",
}
# Messages per mbox. mailbox_01 has an unescaped "From time to time" in its body and
# unmunged has two "From Russia with love" body lines: neither is a separator.
MBOX_COUNTS = {
    "cpython-email/mailbox_01.mbox": 1,
    "mimekit/mbox__content-length.mbox": 29,
    "mimekit/mbox__issue1189.mbox": 4,
    "mimekit/mbox__simple.mbox": 3,
    "mimekit/mbox__unmunged.mbox": 2,
}


def _rel(path: Path) -> str:
    return path.relative_to(CORPUS_DIR).as_posix()


def _cases() -> list[object]:
    cases: list[object] = []
    for path in corpus_files():
        if path.suffix == ".mbox":
            for index, msg in enumerate(iter_mbox(path)):
                cases.append(pytest.param(path, index, msg.raw, id=f"{_rel(path)}#{index}"))
        else:
            cases.append(pytest.param(path, None, None, id=_rel(path)))
    return cases or [pytest.param(None, None, None, id="corpus-missing")]


CASES = _cases()


def _raw(path: Path, raw: bytes | None) -> bytes:
    return raw if raw is not None else path.read_bytes()


@pytest.mark.parametrize(("path", "index", "mbox_raw"), CASES)
def test_message_parses_or_raises_parse_error(
    corpus_dir: Path, path: Path, index: int | None, mbox_raw: bytes | None
) -> None:
    raw = _raw(path, mbox_raw)
    rel = _rel(path)
    for config in (ParserConfig(), ALL_ON):
        try:
            doc = parse_bytes(raw, config)
        except ParseError as exc:
            assert rel in EXPECTED_PARSE_ERRORS, f"unexpected ParseError: {exc}"
            assert EXPECTED_PARSE_ERRORS[rel] in exc.reason
            continue
        assert rel not in EXPECTED_PARSE_ERRORS, "should have been a ParseError"
        check_document(doc, raw)
        assert doc.id == document_id(doc.message_id, content_hash(raw))
        # Taken by the parser (its worker), so the store need not: it must be the same.
        assert doc.fingerprint == fingerprint(raw)
        assert doc.message_id == peek_message_id(raw)
        assert doc.metadata["parser_config"] == config.to_dict()


def test_mbox_message_counts(corpus_dir: Path) -> None:
    for rel, expected in MBOX_COUNTS.items():
        assert len(list(iter_mbox(corpus_dir / rel))) == expected, rel


def _parsed_cases() -> list[object]:
    return [
        c for c in CASES if not str(getattr(c, "id", "")).endswith(tuple(EXPECTED_PARSE_ERRORS))
    ]


class _StyleScript(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script"):
            self.inside += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self.inside:
            self.inside -= 1

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.chunks.append(data)


_CSS_BLOCK = re.compile(r"[\w#.\-]+\s*\{[^{}\n]*:[^{}\n]*;?[^{}\n]*\}")
_SCRIPT = re.compile(r"\bfunction\s*\(|document\.(?:write|getElementById)|window\.location")


@pytest.mark.parametrize(("path", "index", "mbox_raw"), _parsed_cases())
def test_no_css_or_script_text_in_body(
    corpus_dir: Path, path: Path, index: int | None, mbox_raw: bytes | None
) -> None:
    raw = _raw(path, mbox_raw)
    doc = parse_bytes(raw)
    if doc.metadata["body_source"] != "text/html":
        return
    assert not _CSS_BLOCK.search(doc.body_text)
    assert not _SCRIPT.search(doc.body_text)
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() != "text/html":
            continue
        payload = part.get_payload(decode=True) or b""
        extractor = _StyleScript()
        extractor.feed(payload.decode("utf-8", "replace"))
        for chunk in extractor.chunks:
            for line in chunk.splitlines():
                line = line.strip()
                if len(line) >= 12:
                    assert line not in doc.body_text, line
