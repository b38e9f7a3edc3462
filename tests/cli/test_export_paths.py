"""``export --out``: files the user names, and links planted where an export is written.

``--out report.html`` gives ``report.html`` (assets in ``report_files/``), ``--out dir/``
a bundle in ``dir/``; missing parents need ``--parents``; only a regular file is ever
replaced, and nothing is written through a symbolic link MailAtlas did not make.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mailatlas_cli._main import cli

from tests.backends import sqlite_only

from .conftest import PNG
from .test_export import _ok, _private, doc_id

__all__ = ["doc_id"]  # the fixture, shared with test_export.py

# Where exports go (--out) does not depend on the store: its bundles read from S3 are
# tested in test_export.py on both backends.
pytestmark = sqlite_only


def _export(runner: CliRunner, doc: str, fmt: str, out: str, *extra: str) -> Result:
    return runner.invoke(cli, ["export", doc, "--format", fmt, "--out", out, *extra])


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_out_file_html_gives_that_file_with_assets_beside_it(
    runner: CliRunner, doc_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = _export(runner, doc_id, "html", str(out / "report.html"))
    assert json.loads(_ok(result)) == {"path": str(out / "report.html")}
    assert _tree(out) == [
        "report.html",
        "report_files",
        "report_files/logo.png",
        "report_files/report.txt",
    ]
    page = (out / "report.html").read_text()
    assert '<img src="report_files/logo.png" alt="logo">' in page
    assert '<a href="report_files/report.txt">report.txt</a>' in page
    assert (out / "report_files" / "logo.png").read_bytes() == PNG
    assert all(_private(p) for p in out.rglob("*"))


def test_out_file_markdown_with_spaces_links_its_files_folder(
    runner: CliRunner, doc_id: str, tmp_path: Path
) -> None:
    result = _export(runner, doc_id, "markdown", str(tmp_path / "my notes.md"))
    assert json.loads(_ok(result)) == {"path": str(tmp_path / "my notes.md")}
    text = (tmp_path / "my notes.md").read_text()
    assert "[report.txt](my%20notes_files/report.txt)" in text
    assert (tmp_path / "my notes_files" / "report.txt").read_bytes() == b"the full report\n"


@pytest.mark.parametrize(
    ("fmt", "written"),
    [
        ("html", ["assets", "assets/logo.png", "assets/report.txt", "document.html"]),
        ("json", ["{id}.json"]),
    ],
)
def test_a_trailing_slash_always_means_a_directory(
    runner: CliRunner, doc_id: str, tmp_path: Path, fmt: str, written: list[str]
) -> None:
    out = tmp_path / "bundle.html"  # a file-like name, but the slash decides
    name = written[-1].format(id=doc_id)
    result = _export(runner, doc_id, fmt, f"{out}/")
    assert json.loads(_ok(result)) == {"path": str(out / name)}
    assert _tree(out) == [w.format(id=doc_id) for w in written]
    assert _private(out)


@pytest.mark.parametrize("out", ["a/b/report.html", "a/b/"])
def test_missing_parents_are_an_error_unless_asked_for(
    runner: CliRunner, doc_id: str, tmp_path: Path, out: str
) -> None:
    target = f"{tmp_path}/{out}"
    result = _export(runner, doc_id, "html", target)
    assert result.exit_code == 2
    missing = tmp_path / "a" / "b" if out.endswith(".html") else tmp_path / "a"
    assert result.stderr == (
        f"Error: --out {target}: the directory {missing} does not exist — create it, "
        "or pass --parents to create missing directories\n"
    )
    assert not (tmp_path / "a").exists()

    result = _export(runner, doc_id, "html", target, "--parents")
    page = tmp_path / "a" / "b" / ("report.html" if out.endswith(".html") else "document.html")
    assert json.loads(_ok(result)) == {"path": str(page)}
    assert _private(tmp_path / "a") and _private(tmp_path / "a" / "b")


def _special_files(tmp_path: Path) -> dict[str, Path]:
    """Things that are not regular files, each with something to check afterwards."""
    made: dict[str, Path] = {}
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    made["a FIFO (named pipe)"] = fifo
    if os.geteuid() == 0:  # like /dev/full, but our own node: nothing real is at risk
        device = tmp_path / "full"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        made["a character device"] = device
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.chmod(victim, 0o644)
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    made["a symbolic link"] = link
    stdout_link = tmp_path / "stdout"
    stdout_link.symlink_to("/proc/self/fd/1")
    made["a symbolic link "] = stdout_link  # the same kind, a second case
    return made


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_only_a_regular_file_is_ever_replaced(
    runner: CliRunner, doc_id: str, tmp_path: Path, fmt: str
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    for kind, path in _special_files(place).items():
        before = path.lstat()
        result = _export(runner, doc_id, fmt, str(path))
        assert result.exit_code == 2, kind
        assert result.stderr == (
            f"Error: {path} is {kind.strip()}; MailAtlas replaces only regular files and "
            "never writes through a link — remove it or choose another --out\n"
        )
        after = path.lstat()
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )
    assert (place / "victim.txt").read_text() == "keep me"
    assert stat.S_IMODE((place / "victim.txt").stat().st_mode) == 0o644
    assert not [p for p in place.iterdir() if p.name.endswith("_files")]


@pytest.mark.parametrize(
    "planted", ["assets", "assets/report.txt", "document.html", "report.html", "report_files"]
)
def test_links_planted_in_the_bundle_are_refused_not_followed(
    runner: CliRunner, doc_id: str, tmp_path: Path, planted: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chmod(elsewhere, 0o755)
    victim = elsewhere / "victim"
    victim.write_bytes(b"precious")
    os.chmod(victim, 0o644)
    link = out / planted
    if "/" in planted:
        link.parent.mkdir(mode=0o700)
    link.symlink_to(victim if "." in link.name else elsewhere)
    target = f"{out}/report.html" if planted.startswith("report") else f"{out}/"
    result = _export(runner, doc_id, "html", target)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {link} is a symbolic link")
    assert victim.read_bytes() == b"precious" and os.listdir(elsewhere) == ["victim"]
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o755


def test_a_linked_exports_folder_receives_nothing(
    runner: CliRunner, home: Path, doc_id: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chmod(elsewhere, 0o755)
    exports = home / "workspace" / "exports"
    exports.rmdir()
    exports.symlink_to(elsewhere)
    result = runner.invoke(cli, ["export", doc_id, "--format", "pdf"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {exports.absolute()} is a symbolic link, not a directory MailAtlas may "
        "write into — remove it or choose another --out\n"
    )
    assert os.listdir(elsewhere) == []
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o755
