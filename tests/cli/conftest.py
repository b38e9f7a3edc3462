"""Fixtures for the CLI tests: a CliRunner, store paths, and sample mail on disk."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.backends import BACKENDS, StoreSpec, spec_in_env

# A 1x1 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def chromium_or_skip() -> str:
    """The browser to use for PDF tests; skips (or fails under CI=true) when absent."""
    found = os.environ.get("MAILATLAS_PDF_BROWSER") or next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if not found or not shutil.which("pdftotext"):
        msg = "PDF tests need chromium and pdftotext (apt-get install chromium poppler-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; CI requires them")
        pytest.skip(msg)
    return found


def make_message(
    subject: str,
    body: str,
    *,
    sender: str = "Ada Lovelace <ada@example.test>",
    to: str = "Charles Babbage <charles@example.test>",
    html: str | None = None,
    inline_png: bool = False,
    attachment: tuple[str, bytes] | None = None,
    message_id: str | None = "auto",
    day: int = 1,
) -> bytes:
    """A realistic RFC 5322 message built with the standard library."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2024, 5, day, 9, 30, tzinfo=UTC))
    if message_id == "auto":
        msg["Message-ID"] = make_msgid(domain="example.test")
    elif message_id is not None:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if inline_png:
            html_part = msg.get_payload()[1]
            html_part.add_related(
                PNG, maintype="image", subtype="png", cid="<logo@example.test>", filename="logo.png"
            )
    if attachment is not None:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty MAILATLAS_HOME; every MAILATLAS_* variable of the caller is cleared."""
    for name in list(os.environ):
        if name.startswith("MAILATLAS_") and name != "MAILATLAS_CORPUS":
            monkeypatch.delenv(name)
    root = tmp_path / "home"
    monkeypatch.setenv("MAILATLAS_HOME", str(root))
    yield root


@pytest.fixture(params=BACKENDS)
def store_spec(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreSpec:
    """The store the commands use, on each backend (see tests/backends.py)."""
    return spec_in_env(request.param, request, home, monkeypatch)
