"""Small builders and invariant checks shared by the mailatlas-clean tests."""

from __future__ import annotations

import json
import re

import pytest
from mailatlas_clean.parser._names import MAX_NAME_BYTES
from mailatlas_clean.pool import _pool as pool_module
from mailatlas_core._model import ParsedDocument

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def message(body: str = "Hello.\n", *, headers: str = "", ctype: str = "text/plain") -> bytes:
    """A minimal valid message with the given body and extra header lines."""
    return (
        "From: Alice <alice@example.com>\n"
        "To: Bob <bob@example.com>\n"
        "Subject: Test\n"
        "Date: Mon, 06 May 2024 10:00:00 +0200\n"
        "Message-ID: <test-1@example.com>\n"
        f"{headers}"
        "MIME-Version: 1.0\n"
        f"Content-Type: {ctype}; charset=utf-8\n"
        "\n"
        f"{body}"
    ).encode()


def check_document(doc: ParsedDocument, raw: bytes) -> None:
    """Invariants every parsed document must satisfy."""
    assert doc.raw == raw
    json.dumps(doc.metadata)  # JSON-serialisable
    for text in (doc.body_text, doc.subject, doc.body_html or ""):
        text.encode("utf-8")  # no lone surrogates
    assert "\r" not in doc.body_text
    assert "source" not in doc.metadata
    names = [a.filename for a in doc.assets]
    assert len({n.casefold() for n in names}) == len(names), names
    for name in names:
        assert name not in ("", ".", "..")
        assert not _UNSAFE_NAME.search(name), name
        assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    html = (doc.body_html or "").lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html)
    assert not re.search(r'<img[^>]+\ssrc="(?:https?:)?//', html)


def count_pool_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for every parser worker the pool starts from now on."""
    started: list[int] = []
    real_worker = pool_module.WorkerProcess

    def counting_worker(*args: object, **kwargs: object) -> object:
        started.append(1)
        return real_worker(*args, **kwargs)

    monkeypatch.setattr(pool_module, "WorkerProcess", counting_worker)
    return started
