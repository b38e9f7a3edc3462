"""docs/cli.md is the real ``--help`` of every command (regenerate: scripts/gen_cli_docs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", REPO / "scripts" / "gen_cli_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_matches_the_real_help() -> None:
    generated = _generator().render()
    on_disk = (REPO / "docs" / "cli.md").read_text("utf-8")
    assert on_disk == generated, "docs/cli.md is out of date: run python scripts/gen_cli_docs.py"


def test_cli_reference_covers_every_command() -> None:
    text = (REPO / "docs" / "cli.md").read_text("utf-8")
    for title in (
        "mailatlas",
        "mailatlas ingest eml",
        "mailatlas ingest mbox",
        "mailatlas ingest maildir",
        "mailatlas sync imap",
        "mailatlas folders",
        "mailatlas watch imap",
        "mailatlas list",
        "mailatlas show",
        "mailatlas export",
    ):
        assert f"## `{title}`\n" in text, title
