"""The Markdown export is safe by construction, checked with real renderers.

Every exported page is rendered by markdown-it-py (CommonMark, and the GitHub-flavoured
preset with tables, strikethrough and linkify) configured to be as permissive as a
careless viewer: raw HTML on, every link scheme accepted. Whatever the message says, the
rendered HTML must show the message text as text, hold no image but the document's own
assets, no link but http/https/mailto (or an asset path), and no raw HTML. A real headless
Chromium then opens the rendered pages next to a loopback HTTP spy that must receive no
request at all.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mailatlas_cli import MailAtlas
from mailatlas_cli._export._common import absolute_path_link, bundle_link
from mailatlas_cli._export.markdown import markdown_text, render_markdown
from mailatlas_cli._main import cli
from mailatlas_core import Asset, Document, empty_metadata
from markdown_it import MarkdownIt

from .conftest import chromium_or_skip, make_message

ALLOWED_SCHEMES = {"http", "https", "mailto"}
# What a rendered export may contain: the header block, paragraphs, the asset list.
ALLOWED_TAGS = {"h1", "h2", "p", "strong", "br", "hr", "ul", "li", "a", "img"}
BODY_TAGS = {"p", "br", "a"}


def _renderer(preset: str, *, linkify: bool = False) -> MarkdownIt:
    md = MarkdownIt(preset, {"html": True, "linkify": linkify})
    md.validateLink = lambda url: True  # as permissive as a careless viewer: any scheme
    # Show autolink text as written (CommonMark); markdown-it would decode %XX.
    md.normalizeLinkText = lambda url: url
    if preset == "gfm-like":
        md.enable("table")
    if linkify:
        # GitHub links www., http(s):// and e-mail addresses only (GFM spec 6.9).
        md.linkify.add("ftp:", None)
        md.linkify.add("//", None)
    return md


# CommonMark, and GitHub's tables and strikethrough: the text must come back exactly.
RENDERERS = [_renderer("commonmark"), _renderer("gfm-like")]
# GitHub-style linkify too: it must stay safe. (markdown-it's linkify reads link text from
# the source, backslash escapes included, so text fidelity is not asserted with it.)
LINKIFY = _renderer("gfm-like", linkify=True)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _check_links(page: _Page, own: set[str]) -> None:
    for tag, attrs in page.tags:
        if tag == "a":
            href = attrs.get("href") or ""
            scheme = urlsplit(href).scheme.lower()
            assert href in own or scheme in ALLOWED_SCHEMES, href
        if tag == "img":
            assert attrs.get("src") in own, attrs


# Text built from the characters Markdown cares about, plus hostile fragments.
_SNIPPETS = [
    "\\![x](http://127.0.0.1/t.png)",
    "![x](http://h/t.png)",
    "[x](javascript:alert(1))",
    "<img src=http://h/p.gif>",
    "<script>alert(1)</script>",
    "<https://h/a>",
    "<javascript:alert(1)>",
    "[r]: http://h/ref.png",
    "![r]",
    "&lt;img src=x&gt;",
    "&#60;b&#62;",
    "&amp;",
    "```",
    "~~~",
    "    indented",
    "\tTab",
    "> quote",
    "# heading",
    "- item",
    "1. item",
    "2) item",
    "---",
    "===",
    "| a | b |",
    "|---|---|",
    "**bold** _em_ ~~del~~",
    "https://example.test/a_(b)",
    "www.example.test",
    "mailto:a@example.test",
    "ada@example.test",
    "{onclick=alert(1)}",
    "\\",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "\r",
    "\n",
    "\r\n",
    " ",
    "  \n",
]
_ALPHABET = st.sampled_from(list("\\`*_{}[]()<>#+-.!|&~=:;/\"' \t\n\r0123456789ahtpsw@%?"))
TEXTS = st.lists(
    st.one_of(
        st.sampled_from(_SNIPPETS),
        st.text(_ALPHABET, max_size=12),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
    ),
    max_size=24,
).map("".join)


def _expected_text(text: str) -> str:
    # CommonMark replaces U+0000 with U+FFFD (spec 2.3, insecure characters).
    return _squash(text.replace("\x00", "\ufffd"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
@example("\\![x](http://host/t.png)")
@example("[x](javascript:alert(1))")
@example("    <img src=http://h/x>\n\n    \\![x](http://h/t.png)")
@example("para\n\n\t*x*")
@example("a\rb\r# c")
def test_any_body_text_renders_as_itself_and_nothing_more(text: str) -> None:
    md = markdown_text(text)
    for renderer in RENDERERS:
        page = _parse(renderer.render(md))
        assert {tag for tag, _ in page.tags} <= BODY_TAGS, (md, page.tags)
        _check_links(page, set())
        assert _squash("".join(page.text)) == _expected_text(text), md
    page = _parse(LINKIFY.render(md))
    assert {tag for tag, _ in page.tags} <= BODY_TAGS, (md, page.tags)
    _check_links(page, set())


def test_the_reported_bypasses_stay_text() -> None:
    md = markdown_text("\\![x](http://host/t.png)\n[x](javascript:alert(1))\n")
    for renderer in RENDERERS:
        page = _parse(renderer.render(md))
        assert {tag for tag, _ in page.tags} <= {"p", "a"}
        assert [a["href"] for t, a in page.tags if t == "a"] == ["http://host/t.png"]
        assert _squash("".join(page.text)) == "\\![x](http://host/t.png) [x](javascript:alert(1))"


def test_allowed_urls_become_links_showing_themselves() -> None:
    md = markdown_text("See [the report](https://example.test/r). Or mailto:a@example.test!")
    html = RENDERERS[0].render(md)
    assert '<a href="https://example.test/r">https://example.test/r</a>' in html
    assert '<a href="mailto:a@example.test">mailto:a@example.test</a>' in html
    assert _squash("".join(_parse(html).text)) == (
        "See [the report](https://example.test/r). Or mailto:a@example.test!"
    )


def _document(subject: str, sender: str, body: str, filename: str) -> Document:
    # Where a workspace may live: spaces, brackets, a backslash, a '>' in a directory name.
    tmp = Path("/srv/mail (old)/[ws] a\\b>c")
    asset_path = tmp / "assets" / filename
    return Document(
        id="d" * 32,
        source_kind="eml",
        message_id="m@example.test",
        thread_id=None,
        subject=subject,
        sender_name=sender,
        sender_email="ada@example.test",
        author=None,
        received_at=None,
        published_at=None,
        body_text=body,
        body_html_path=None,
        raw_path=str(tmp / "raw.eml"),
        content_hash="0" * 64,
        metadata={  # a whole DocumentMetadata, as the parser builds it (readers trust it)
            **empty_metadata(),
            "recipients": {
                "to": [{"name": sender, "email": "b@example.test"}],
                "cc": [],
                "bcc": [],
                "reply_to": [],
            },
        },
        created_at="2024-05-01T00:00:00Z",
        assets=(
            Asset(
                "a0", "d" * 32, 0, "inline", "image/png", str(asset_path), None, "0", filename, 1
            ),
            Asset(
                "a1",
                "d" * 32,
                1,
                "attachment",
                "text/plain",
                str(asset_path),
                None,
                "0",
                filename,
                1,
            ),
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, TEXTS, TEXTS, TEXTS)
# found by this test: a linkifier took "\\" of "\\*" into its link and freed the "*"
@example("s", "https://example.test/a_(b)*;", "body", "x")
@example("s", "x", "see www.example.test/a_b*c and more* here", "x")
def test_any_document_renders_nothing_live_but_its_own_assets(
    subject: str, sender: str, body: str, filename: str
) -> None:
    doc = _document(subject, sender, body, filename or "x")
    for link in (bundle_link, absolute_path_link):
        md = render_markdown(doc, link)
        own = {_rendered_target(link(a)) for a in doc.assets}
        for renderer in (*RENDERERS, LINKIFY):
            page = _parse(renderer.render(md))
            assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS, page.tags
            _check_links(page, own)
            assert sum(tag == "img" for tag, _ in page.tags) <= 1
            if renderer is not LINKIFY:
                assert _expected_text(body) in _squash("".join(page.text))


def _rendered_target(link: str) -> str:
    """How markdown-it writes a link target into href (percent-encoding what it must)."""
    return RENDERERS[0].normalizeLink(link)


# -- a real browser and a loopback spy ------------------------------------------------------


class _Spy(http.server.ThreadingHTTPServer):
    requests: list[str]


@contextlib.contextmanager
def _spy() -> Iterator[_Spy]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = _Spy(("127.0.0.1", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _browse(browser: str, page: Path, tmp: Path) -> str:
    """Open ``page`` in headless Chromium with scripts on; return the final DOM."""
    command = [browser, "--headless"]
    if os.geteuid() == 0:
        command.append("--no-sandbox")
    command += [
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=3000",
        "--dump-dom",
        page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp)}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _hostile_body(base: str) -> str:
    return "\n".join(
        [
            f"\\![x]({base}/escaped-bang.png)",
            f"![x]({base}/image.png)",
            f"[x](javascript:fetch('{base}/js-link'))",
            f"<img src={base}/raw-img.png>",
            f'<iframe src="{base}/iframe"></iframe>',
            f"<script>fetch('{base}/script')</script>",
            f"    <img src={base}/indented.png>",
            "",
            "![ref][r]",
            "",
            f"[r]: {base}/reference.png",
            f"&lt;img src={base}/entity.png&gt;",
            f"&#60;img src={base}/numeric.png&#62;",
            f'<div style="background:url({base}/css)">x</div>',
            f"<{base}/autolink>",
            f"{base}/bare-url.png",
        ]
    )


@pytest.mark.chromium
@pytest.mark.slow
def test_chromium_loads_nothing_from_a_rendered_export(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    browser = chromium_or_skip()
    with _spy() as spy:
        base = f"http://127.0.0.1:{spy.server_address[1]}"
        # The spy and the browser work: an <img> in a page is fetched.
        control = tmp_path / "control.html"
        control.write_text(f'<html><body><img src="{base}/control.png"></body></html>')
        _browse(browser, control, tmp_path)
        assert spy.requests == ["/control.png"]
        spy.requests.clear()

        mail = tmp_path / "hostile.eml"
        mail.write_bytes(
            make_message(
                f"<img src={base}/subject.png> ![s]({base}/s.png)",
                _hostile_body(base),
                sender=f"Eve ![e]({base}/sender.png) <eve@example.test>",
            )
        )
        with MailAtlas(home / "store.db", home / "workspace") as atlas:
            doc = atlas.ingest_eml([mail])[0].id
        md = runner.invoke(cli, ["export", doc, "--format", "markdown"]).stdout
        for i, renderer in enumerate((*RENDERERS, LINKIFY)):
            page = tmp_path / f"rendered-{i}.html"
            page.write_text(f"<html><body>{renderer.render(md)}</body></html>", "utf-8")
            dom = _browse(browser, page, tmp_path)
            assert "escaped-bang.png" in dom  # the text is there, as text
        assert spy.requests == []


def test_markdown_export_of_the_reported_message(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    """End to end through the CLI: the issue's two reproductions."""
    mail = tmp_path / "m.eml"
    mail.write_bytes(make_message("x", "\\![x](http://host/t.png)\n[x](javascript:alert(1))\n"))
    with MailAtlas(home / "store.db", home / "workspace") as atlas:
        doc = atlas.ingest_eml([mail])[0].id
    md = runner.invoke(cli, ["export", doc, "--format", "markdown"]).stdout
    for renderer in RENDERERS:
        page = _parse(renderer.render(md))
        assert [t for t, _ in page.tags if t == "img"] == []
        assert [a["href"] for t, a in page.tags if t == "a"] == ["http://host/t.png"]


def _html_vectors(base: str) -> str:
    """Every way we know for HTML to load something without a script."""
    port = base.rsplit(":", 1)[1]
    return "\n".join(
        [
            f'<img src="{base}/img"><img srcset="{base}/srcset 1x">',
            f'<picture><source srcset="{base}/source"><img alt="p"></picture>',
            f'<video poster="{base}/poster"></video><audio src="{base}/audio" autoplay></audio>',
            f'<input type="image" src="{base}/input">',
            f'<table background="{base}/table"><tr><td background="{base}/td">x</td></tr></table>',
            f'<link rel="stylesheet" href="{base}/link">',
            f'<meta http-equiv="refresh" content="0;url={base}/meta">',
            f'<base href="{base}/base/"><img src="relative.png">',
            f'<svg><image href="{base}/svg"/></svg>',
            f'<object data="{base}/object"></object><embed src="{base}/embed">',
            f"<style>@import url({base}/import);</style>",
            f'<div style="background:url({base}/css-url)">x</div>',
            f'<div style="background:\\75 rl({base}/css-escape)">x</div>',
            f"<div style=\"background-image:image-set('{base}/image-set' 1x)\">x</div>",
            f'<div style="border:9px solid;border-image:u\\72l({base}/border) 30">x</div>',
            f'<ul style="list-style-image:url({base}/list)"><li>x</li></ul>',
            f'<div style="background: u&#10;rl({base}/entity-newline)">x</div>',
            f'<img src="//127.0.0.1:{port}/protocol-relative">',
            f'<a href="https://example.test/" ping="{base}/ping">x</a>',
            f'<iframe srcdoc="<img src={base}/srcdoc>"></iframe>',
            f"<script>fetch('{base}/script')</script>",
            f'<img src="x" onerror="fetch(\'{base}/onerror\')">',
        ]
    )


@pytest.mark.chromium
@pytest.mark.slow
def test_chromium_loads_nothing_from_stored_or_exported_html(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    """The siblings: the stored HTML snapshot and the HTML export, opened in a browser."""
    browser = chromium_or_skip()
    with _spy() as spy:
        base = f"http://127.0.0.1:{spy.server_address[1]}"
        control = tmp_path / "control.html"
        control.write_text(f"<html><body>{_html_vectors(base)}</body></html>")
        _browse(browser, control, tmp_path)
        assert "/img" in spy.requests and "/css-escape" in spy.requests  # the vectors work
        spy.requests.clear()

        mail = tmp_path / "hostile.eml"
        page = f"<html><body><p>visible text</p>{_html_vectors(base)}</body></html>"
        mail.write_bytes(make_message("html", "plain", html=page))
        with MailAtlas(home / "store.db", home / "workspace") as atlas:
            doc = atlas.ingest_eml([mail])[0].id
            stored = atlas.get_document(doc).body_html_path
        assert stored is not None
        out = tmp_path / "bundle"
        result = runner.invoke(cli, ["export", doc, "--format", "html", "--out", f"{out}/"])
        assert result.exit_code == 0, result.output
        for opened in (Path(stored), out / "document.html"):
            assert "visible text" in _browse(browser, opened, tmp_path)
        assert spy.requests == []
