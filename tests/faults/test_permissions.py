"""Private data stays private under a permissive umask, through the real CLI.

``umask 000`` in the CLI's process, then an ingest (raw, html, assets, failures) and
every bundle/file export: each directory the store created is 0700 and each file 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import make_message
from tests.hostile.helpers import REPO, cli_command, cli_env


def _umask_000() -> None:
    os.umask(0o000)


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        env=cli_env(home),
        cwd=REPO,
        timeout=120,
        preexec_fn=_umask_000,
        check=False,
    )


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and root itself) that is not private, with its mode."""
    bad = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            bad[str(path.relative_to(root.parent))] = oct(mode)
    return bad


@pytest.mark.slow
def test_umask_000_still_gives_0700_and_0600(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "rich.eml").write_bytes(
        make_message(
            "Quarterly numbers",
            "Revenue grew.",
            html="<p>Revenue <b>grew</b>.</p><img src='cid:logo@example.test'>",
            inline_png=True,
            attachment=("report.txt", b"the full report\n"),
        )
    )
    (src / "broken.eml").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    home = tmp_path / "home"

    ingest = _run(home, "ingest", "eml", str(src))
    assert ingest.returncode == 1, ingest.stderr  # the broken file is a failure
    assert '"ingested_count": 1' in ingest.stdout
    doc_id = json.loads(ingest.stdout)["document_refs"][0]["id"]
    for fmt in ("json", "markdown", "html"):
        done = _run(home, "export", doc_id, "--format", fmt)
        assert done.returncode == 0, done.stderr
        out = str(home / "out" / fmt)
        bundle = _run(home, "export", doc_id, "--format", fmt, "--out", out, "--parents")
        assert bundle.returncode == 0, bundle.stderr

    ws = home / "workspace"
    for sub in ("raw", "html", "assets", "failures", "exports"):
        assert (ws / sub).is_dir(), sub
    assert any((ws / "assets").rglob("*.png")) and any((ws / "failures").iterdir())
    assert _modes(home) == {}
    assert (home / "store.db").exists()
