"""HTML that attacks the reader: nothing active or remote survives storage or export.

One message carries every attack at once. Its stored ``html/<id>.html``, the html
export and the PDF export are checked; the PDF is printed by the real headless
Chromium while a loopback HTTP server, referenced from the message in every way a page
can load something, records any request: it must see none. A script and a handful of
elements also try to pull ``file:///etc/hostname`` into the PDF: no trace of it.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli

from tests.cli.conftest import chromium_or_skip

from .helpers import cli_env


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"REMOTE CONTENT LOADED")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def spy() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request path; yields (base url, hits)."""
    hits: list[str] = []
    handler = type("Recorder", (_Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/selftest", timeout=5) as answer:  # the spy works
            assert answer.read() == b"REMOTE CONTENT LOADED"
        assert hits == ["/selftest"]
        hits.clear()
        yield base, hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def attack_html(base: str) -> str:
    return f"""<!DOCTYPE html><html><head>
<meta http-equiv="refresh" content="0; url={base}/refresh">
<link rel="stylesheet" href="{base}/link.css">
<link rel="prefetch" href="{base}/prefetch"><link rel="preload" href="{base}/preload" as="image">
<base href="{base}/base/">
<style>@import url("{base}/import.css");
@font-face {{ font-family: Spy; src: url("{base}/font.woff"); }}
body {{ background: url("{base}/bg.png"); font-family: Spy; width: expression(alert(1)); }}
</style>
<script>document.write("SCRIPT RAN"); fetch("{base}/fetch");
var x = new XMLHttpRequest(); x.open("GET", "file:///etc/hostname", false); x.send();
document.body.innerText = "HOSTNAME:" + x.responseText;</script>
<script src="{base}/script.js"></script>
</head><body onload="document.write('ONLOAD RAN')">
<p>Visible paragraph about quarterly results.</p>
<img src="{base}/pixel.gif" width="1" height="1" onerror="document.write('ONERROR RAN')">
<img srcset="{base}/srcset.png 2x"><picture><source srcset="{base}/source.png"></picture>
<img src="file:///etc/hostname"><img src="data:image/svg+xml,<svg onload=alert(1)>">
<div style="background-image: url('{base}/inline-bg.png'); width: expression(alert(2))">styled</div>
<div style="behavior: url({base}/behavior.htc)">behaves</div>
<span style="font-family: Spy; src: url({base}/inline-font.woff)">font</span>
<a href="javascript:alert(1)">js link</a>
<a href="data:text/html,<script>alert(1)</script>">data link</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="JaVaScRiPt:alert(1)">mixed case</a>
<a href="https://example.test/ok">safe link</a>
<iframe src="{base}/iframe"></iframe><iframe srcdoc="<script>alert(1)</script>"></iframe>
<iframe src="file:///etc/hostname"></iframe>
<object data="{base}/object.swf"></object><object data="file:///etc/hostname"></object>
<embed src="{base}/embed.swf"><applet code="{base}/applet.class"></applet>
<video src="{base}/video.mp4" poster="{base}/poster.png"></video>
<audio src="{base}/audio.mp3"></audio>
<form action="{base}/form"><input type="image" src="{base}/input.png"></form>
<svg><image href="{base}/svg-image.png"/><script>alert(1)</script></svg>
<table background="{base}/table-bg.png"><tr><td background="{base}/td-bg.png">cell</td></tr></table>
<p onclick="alert(1)" onmouseover="alert(2)">handlers</p>
</body></html>"""


_FORBIDDEN = [
    "<script", "script ran", "onload", "onerror", "onclick", "onmouseover", "javascript:",
    "vbscript:", "data:text/html", "expression(", "@import", "@font-face", "<iframe",
    "srcdoc", "<object", "<embed", "<applet", "http-equiv=\"refresh", "/refresh",
    "<link", "<base", "behavior:", "<form", "<video", "<audio", "file:///etc", "etc/hostname",
    "svg onload",
]  # fmt: skip


def assert_no_attack(page: str) -> None:
    lowered = page.lower()
    for bad in _FORBIDDEN:
        assert bad not in lowered, bad
    # No loading attribute points anywhere remote or local; a blocked image keeps its
    # address only in the inert ``data-blocked-src``.
    loaders = re.finditer(
        r"""(?<![\w-])(?:src|srcset|href|background|poster|data|action)\s*=\s*["']?([^"'\s>]+)""",
        lowered,
    )
    for match in loaders:
        url = match.group(1)
        assert not url.startswith(("http://127", "//", "file:", "data:text")), url
    assert "127.0.0.1" not in lowered.replace('data-blocked-src="http://127.0.0.1', "")


def _message(base: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@example.test>"
    msg["To"] = "Alice <alice@example.test>"
    msg["Subject"] = "Quarterly results"
    msg["Message-ID"] = "<attack@example.test>"
    msg.set_content("Visible paragraph about quarterly results.")
    msg.add_alternative(attack_html(base), subtype="html")
    return bytes(msg)


@pytest.fixture
def attack_doc(tmp_path: Path, spy: tuple[str, list[str]]) -> tuple[Path, str]:
    home = tmp_path / "home"
    src = tmp_path / "attack.eml"
    src.write_bytes(_message(spy[0]))
    with MailAtlas(home / "store.db", home / "workspace") as atlas:
        refs = atlas.ingest_eml([src])
    assert len(refs) == 1
    return home, refs[0].id


def test_stored_html_snapshot_is_inert(attack_doc: tuple[Path, str]) -> None:
    home, doc_id = attack_doc
    stored = (home / "workspace" / "html" / f"{doc_id}.html").read_text()
    assert "Visible paragraph about quarterly results." in stored
    assert 'href="https://example.test/ok"' in stored
    assert_no_attack(stored)


def test_html_export_is_inert(
    attack_doc: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, doc_id = attack_doc
    for name, value in cli_env(home).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    out = tmp_path / "bundle"
    result = runner.invoke(cli, ["export", doc_id, "--format", "html", "--out", f"{out}/"])
    assert result.exit_code == 0, result.output
    page = (out / "document.html").read_text()
    assert "Visible paragraph about quarterly results." in page
    assert_no_attack(page)
    stdout_page = runner.invoke(cli, ["export", doc_id, "--format", "html"])
    assert stdout_page.exit_code == 0
    assert_no_attack(stdout_page.stdout)


@pytest.mark.chromium
@pytest.mark.slow
def test_pdf_export_loads_nothing_and_reads_no_local_file(
    attack_doc: tuple[Path, str], spy: tuple[str, list[str]], tmp_path: Path
) -> None:
    chromium_or_skip()
    home, doc_id = attack_doc
    _base, hits = spy
    out = tmp_path / "attack.pdf"
    done = subprocess.run(
        [*_cli(), "export", doc_id, "--format", "pdf", "--out", str(out)],
        capture_output=True,
        text=True,
        env=cli_env(home),
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"path": str(out)}
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Visible paragraph about quarterly results." in text
    for bad in ("SCRIPT RAN", "ONLOAD RAN", "ONERROR RAN", "HOSTNAME:", "REMOTE CONTENT"):
        assert bad not in text, bad
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if len(hostname) >= 6:  # a short name could occur by chance in the text
        assert hostname not in text
        assert hostname.encode() not in out.read_bytes()
    assert hits == [], f"the PDF export made network requests: {hits}"


def _cli() -> list[str]:
    from .helpers import cli_command

    return cli_command()
