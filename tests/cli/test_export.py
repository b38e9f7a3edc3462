"""``mailatlas export``: every format written, opened and checked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._export.pdf import chromium_command, make_profile
from mailatlas_cli._main import cli
from markdown_it import MarkdownIt

from tests.backends import StoreSpec, read_located

from .conftest import PNG, chromium_or_skip, make_message

HOSTILE_HTML = """\
<html><head><title>LEAKED TITLE</title><style>body{background:url(http://evil.test/bg)}</style>
</head><body>
<h2>Quarterly numbers</h2>
<p onclick="steal()">Revenue grew in every region.</p>
<img src="cid:logo@example.test" alt="logo">
<img src="http://evil.test/track.png"><img src="file:///etc/hostname">
<img src="../../../../etc/hostname">
<a href="javascript:alert(1)">click</a> <a href="https://example.test/report">report</a>
<script>document.write('SCRIPT RAN')</script><iframe src="https://evil.test/"></iframe>
</body></html>
"""


@pytest.fixture
def doc_id(store_spec: StoreSpec, tmp_path: Path) -> str:
    path = tmp_path / "rich.eml"
    path.write_bytes(
        make_message(
            "Quarterly numbers for Q2",
            "Revenue grew in every region.",
            html=HOSTILE_HTML,
            inline_png=True,
            attachment=("report.txt", b"the full report\n"),
        )
    )
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        return atlas.ingest_eml([path])[0].id


def _ok(result: object) -> str:
    from click.testing import Result

    assert isinstance(result, Result)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def _assert_safe_html(page: str) -> None:
    lowered = page.lower()
    for bad in (
        "<script",
        "script ran",
        "evil.test",
        "file:///etc",
        "etc/hostname",
        "javascript:",
        "onclick",
        "<iframe",
        "leaked title",
    ):
        assert bad not in lowered, bad


def test_json_export(runner: CliRunner, home: Path, doc_id: str, tmp_path: Path) -> None:
    shown = json.loads(_ok(runner.invoke(cli, ["show", doc_id])))
    assert json.loads(_ok(runner.invoke(cli, ["export", doc_id]))) == shown

    out = tmp_path / "doc.json"
    written = json.loads(
        _ok(runner.invoke(cli, ["export", doc_id, "-f", "json", "--out", str(out)]))
    )
    assert written == {"path": str(out)}
    assert json.loads(out.read_text()) == shown
    assert _private(out)

    into_dir = json.loads(
        _ok(runner.invoke(cli, ["export", doc_id, "-f", "json", "--out", str(tmp_path)]))
    )
    assert into_dir == {"path": str(tmp_path / f"{doc_id}.json")}


def test_markdown_to_stdout_links_assets_absolutely(
    runner: CliRunner, store_spec: StoreSpec, doc_id: str
) -> None:
    text = _ok(runner.invoke(cli, ["export", doc_id, "--format", "markdown"]))
    assets = store_spec.located(f"assets/{doc_id}")
    assert text.startswith("# Quarterly numbers for Q2\n\n")
    assert "**From:** Ada Lovelace &lt;ada@example.test&gt;  \n" in text
    assert "**To:** Charles Babbage &lt;charles@example.test&gt;  \n" in text
    assert "**Date:** Wed, 01 May 2024 09:30:00 +0000  \n" in text
    assert "Revenue grew in every region." in text
    assert f"![logo.png]({assets}/logo.png)" in text
    assert f"[report.txt]({assets}/report.txt)" in text
    assert read_located(f"{assets}/logo.png") == PNG


def test_markdown_bundle(runner: CliRunner, doc_id: str, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    printed = json.loads(
        _ok(runner.invoke(cli, ["export", doc_id, "--format", "markdown", "--out", f"{out}/"]))
    )
    assert printed == {"path": str(out / "document.md")}
    text = (out / "document.md").read_text()
    assert "![logo.png](assets/logo.png)" in text
    assert "[report.txt](assets/report.txt)" in text
    assert str(tmp_path) not in text
    assert (out / "assets" / "logo.png").read_bytes() == PNG
    assert (out / "assets" / "report.txt").read_bytes() == b"the full report\n"
    assert all(_private(p) for p in [out, out / "document.md", *out.rglob("*")])


def test_html_bundle_is_sanitised_and_standalone(
    runner: CliRunner, doc_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "page"
    printed = json.loads(
        _ok(runner.invoke(cli, ["export", doc_id, "--format", "html", "--out", f"{out}/"]))
    )
    assert printed == {"path": str(out / "document.html")}
    page = (out / "document.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src file: data:; style-src 'unsafe-inline'\">" in page
    )
    assert "<h1>Quarterly numbers for Q2</h1>" in page
    assert "<dt>From</dt><dd>Ada Lovelace &lt;ada@example.test&gt;</dd>" in page
    assert "Revenue grew in every region." in page
    assert '<img src="assets/logo.png" alt="logo">' in page
    assert '<a href="assets/report.txt">report.txt</a>' in page
    assert 'href="https://example.test/report"' in page
    _assert_safe_html(page)
    assert (out / "assets" / "logo.png").read_bytes() == PNG


def test_html_to_stdout_uses_file_uris(
    runner: CliRunner, store_spec: StoreSpec, doc_id: str
) -> None:
    # Assets link where they live: a file: URI, or the s3:// URL of an S3 workspace
    # (which crashed the export: an s3:// place is no path to make a file: URI of).
    page = _ok(runner.invoke(cli, ["export", doc_id, "--format", "html"]))
    logo = store_spec.located(f"assets/{doc_id}/logo.png")
    if store_spec.backend == "sqlite":
        logo = Path(logo).as_uri()
    assert f'<img src="{logo}" alt="logo">' in page
    assert f'<a href="{logo.replace("logo.png", "report.txt")}">report.txt</a>' in page
    _assert_safe_html(page)


def test_bundle_out_naming_an_existing_file_replaces_that_file(
    runner: CliRunner, doc_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(cli, ["export", doc_id, "-f", "markdown", "--out", str(target)])
    assert json.loads(_ok(result)) == {"path": str(target)}
    assert "[report.txt](taken_files/report.txt)" in target.read_text()
    assert (tmp_path / "taken_files" / "report.txt").read_bytes() == b"the full report\n"


def test_no_browser_for_pdf(runner: CliRunner, doc_id: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    out = ["--out", str(tmp_path / "doc.pdf")]  # an S3 workspace has no default place
    result = runner.invoke(cli, ["export", doc_id, "-f", "pdf", *out], env={"PATH": str(empty)})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: PDF export needs headless Chromium and none was found — install it "
        "(apt-get install chromium) or set MAILATLAS_PDF_BROWSER to a Chromium or Chrome binary\n"
    )
    assert "Traceback" not in result.output

    missing = tmp_path / "no-such-browser"
    result = runner.invoke(
        cli, ["export", doc_id, "-f", "pdf", *out], env={"MAILATLAS_PDF_BROWSER": str(missing)}
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: MAILATLAS_PDF_BROWSER={missing} is not an executable browser — point it at "
        "a Chromium or Chrome binary, or unset it\n"
    )


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.slow
@pytest.mark.chromium
def test_pdf_export(
    runner: CliRunner, home: Path, store_spec: StoreSpec, doc_id: str, tmp_path: Path
) -> None:
    chromium_or_skip()
    result = runner.invoke(cli, ["export", doc_id, "--format", "pdf"])
    if store_spec.backend != "sqlite":
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == (
            f"Error: the workspace {store_spec.workspace} is not a local directory to export "
            "into — give --out\n"
        )
        default = tmp_path / f"{doc_id}.pdf"
        result = runner.invoke(cli, ["export", doc_id, "--format", "pdf", "--out", str(default)])
    else:
        default = home.absolute() / "workspace" / "exports" / f"{doc_id}.pdf"
    assert json.loads(_ok(result)) == {"path": str(default)}
    assert default.read_bytes().startswith(b"%PDF-")
    assert _private(default)
    text = _pdftotext(default)
    assert "Quarterly numbers for Q2" in text
    assert "Revenue grew in every region." in text
    assert "Ada Lovelace <ada@example.test>" in text
    assert "report.txt" in text
    assert "SCRIPT RAN" not in text
    raw = default.read_bytes()
    for local in (str(home.absolute()), "mailatlas-pdf-", tempfile.gettempdir() + "/"):
        assert local.encode() not in raw, local
        assert local not in text, local

    out = tmp_path / "named.pdf"
    result = runner.invoke(cli, ["export", doc_id, "--format", "pdf", "--out", str(out)])
    assert json.loads(_ok(result)) == {"path": str(out)}
    assert "Quarterly numbers for Q2" in _pdftotext(out)


@pytest.mark.chromium
def test_pdf_browser_runs_no_script_even_without_the_sanitiser(tmp_path: Path) -> None:
    """The profile blocks JavaScript on its own (defence in depth behind nh3 and the CSP)."""
    browser = chromium_or_skip()
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><p>static text</p><script>"
        "document.body.appendChild(document.createTextNode('SCRIPT RAN'))"
        "</script></body></html>"
    )
    profile, output = tmp_path / "profile", tmp_path / "out.pdf"
    make_profile(profile)
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        chromium_command(browser, page, output, profile),
        capture_output=True,
        env=env,
        timeout=120,
        check=True,
    )
    text = _pdftotext(output)
    assert "static text" in text
    assert "SCRIPT RAN" not in text


def test_markdown_body_is_data_not_markup(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    hostile = (
        'Look <img src="https://evil.test/pixel.gif"> and ![t](https://evil.test/p2.png)\n'
        "<script>alert(1)</script> but [the report](https://example.test/r) stays a link.\n"
        "> quoted reply stays quoted\n"
    )
    path = tmp_path / "plain.eml"
    path.write_bytes(make_message("Plain hostile", hostile))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        doc = atlas.ingest_eml([path])[0].id
    md = _ok(runner.invoke(cli, ["export", doc, "--format", "markdown"]))
    assert "<img" not in md and "<script" not in md
    assert "&lt;img" in md and "!\\[t\\](<https://evil.test/p2.png>)" in md  # the text is kept
    # Rendered by a real CommonMark renderer: the text, as text; the link stays a link.
    page = MarkdownIt("commonmark", {"html": True}).render(md)
    assert "<img" not in page and "<script" not in page
    assert "![t](" in page and "&gt; quoted reply stays quoted" in page
    assert '[the report](<a href="https://example.test/r">https://example.test/r</a>)' in page


def test_the_browser_gets_no_secret_from_the_environment(
    runner: CliRunner, doc_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in browser (a unit seam; the real Chromium is tested above) that records
    # the environment it was given and writes a PDF where it was asked to.
    seen = tmp_path / "env.txt"
    fake = tmp_path / "fake-chromium"
    fake.write_text(
        "#!/bin/sh\n"
        f"env > {seen}\n"
        'for a in "$@"; do case "$a" in --print-to-pdf=*) '
        'printf "%%PDF-1.4 fake" > "${a#--print-to-pdf=}";; esac; done\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("MAILATLAS_PDF_BROWSER", str(fake))
    monkeypatch.setenv("MAILATLAS_IMAP_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("MAILATLAS_IMAP_ACCESS_TOKEN", "tok-secret")
    out = tmp_path / "x.pdf"
    _ok(runner.invoke(cli, ["export", doc_id, "--format", "pdf", "--out", str(out)]))
    env = seen.read_text()
    assert "hunter2-secret" not in env and "tok-secret" not in env
    assert "PATH=" in env
