"""PDF export: the sanitised HTML page printed by an isolated headless Chromium.

Isolation, so that printing a hostile message is safe:

* the page is sanitised (no script, no remote reference) and carries a
  Content-Security-Policy that forbids any load but ``file:``/``data:`` images;
* JavaScript is blocked for every page by the throw-away profile's content settings
  (``--blink-settings=scriptEnabled=false`` would do the same, but current headless
  Chromium then never prints), and network-using browser features are disabled;
* Chromium runs with that fresh, throw-away profile and ``HOME``;
* it renders from a temporary directory holding only the page and the document's
  assets, so no path of the user's is reachable through a relative link or printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mailatlas_core import Document
from mailatlas_core._files import open_dir

from .._errors import BrowserNotFoundError, ExportError
from ._common import LOCAL_FILES, StoredFiles, bundle_link
from ._paths import Destination, write_assets
from .html import render_html

__all__ = [
    "BROWSER_ENV",
    "BROWSER_NAMES",
    "chromium_command",
    "find_browser",
    "make_profile",
    "render_pdf",
]

BROWSER_ENV = "MAILATLAS_PDF_BROWSER"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 120.0


def find_browser() -> str:
    """The Chromium to use: ``$MAILATLAS_PDF_BROWSER``, else the first one on ``PATH``."""
    configured = os.environ.get(BROWSER_ENV)
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise BrowserNotFoundError(
                f"{BROWSER_ENV}={configured} is not an executable browser — point it at "
                "a Chromium or Chrome binary, or unset it"
            )
        return found
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise BrowserNotFoundError(
        "PDF export needs headless Chromium and none was found — install it "
        f"(apt-get install chromium) or set {BROWSER_ENV} to a Chromium or Chrome binary"
    )


# Content setting 2 = "block": no page runs JavaScript in this profile.
_PROFILE_PREFERENCES = {"profile": {"default_content_setting_values": {"javascript": 2}}}


def make_profile(profile: Path) -> None:
    """Prepare a fresh Chromium profile directory in which no page runs JavaScript."""
    default = profile / "Default"
    default.mkdir(mode=0o700, parents=True, exist_ok=True)
    (default / "Preferences").write_text(json.dumps(_PROFILE_PREFERENCES), "utf-8")


def chromium_command(browser: str, page: Path, output: Path, profile: Path) -> list[str]:
    """The Chromium command line that prints ``page`` to ``output``."""
    command = [browser, "--headless"]
    if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox on
        command.append("--no-sandbox")
    command += [
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        "--print-to-pdf-no-header",  # the same, for Chromium before 111
        f"--print-to-pdf={output}",
        page.as_uri(),
    ]
    return command


_BROWSER_ENV = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "FONTCONFIG_FILE", "FONTCONFIG_PATH"})


def render_pdf(document: Document, files: StoredFiles = LOCAL_FILES) -> bytes:
    """Print ``document`` to PDF; the bytes of the PDF file (its stored HTML and assets
    read through ``files``)."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="mailatlas-pdf-") as tmp:
        root = Path(tmp)
        page_dir, profile = root / "page", root / "profile"
        page_dir.mkdir(mode=0o700)
        make_profile(profile)
        page_fd = open_dir(page_dir, create=False)
        try:
            dest = Destination(page_dir, "document.html", "assets")
            write_assets(page_fd, dest, document, files)
        finally:
            os.close(page_fd)
        page = page_dir / "document.html"
        page.write_text(
            render_html(document, bundle_link, link_attachments=False, files=files), "utf-8"
        )
        output = root / "document.pdf"
        # A minimal environment: never hand the browser (or its crash reporter) the
        # user's secrets, e.g. MAILATLAS_IMAP_PASSWORD / _ACCESS_TOKEN.
        env = {
            **{k: v for k, v in os.environ.items() if k in _BROWSER_ENV or k.startswith("LC_")},
            "HOME": str(root),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_CACHE_HOME": str(root / "cache"),
        }
        try:
            proc = subprocess.run(
                chromium_command(browser, page, output, profile),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=env,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExportError(
                f"{browser} did not finish printing within {TIMEOUT_S:.0f} s — "
                "check that it runs headless on this machine"
            ) from exc
        except OSError as exc:
            raise BrowserNotFoundError(
                f"cannot run {browser}: {exc.strerror or exc} — install chromium or set "
                f"{BROWSER_ENV}"
            ) from exc
        if proc.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
            detail = _last_line(proc.stderr)
            raise ExportError(
                f"{browser} printed no PDF (exit {proc.returncode}"
                f"{': ' + detail if detail else ''}) — run it by hand to see why, or set "
                f"{BROWSER_ENV} to another Chromium"
            )
        return output.read_bytes()


def _last_line(stderr: bytes) -> str:
    """The browser's last complaint, skipping the D-Bus noise of a machine without a bus."""
    lines = [
        ln.strip()
        for ln in stderr.decode("utf-8", "replace").splitlines()
        if ln.strip() and "dbus" not in ln.lower()
    ]
    return lines[-1][:200] if lines else ""
