"""What a person meets first: the help of a bare group, and ingest's summary forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli._main import cli

from .conftest import make_message


@pytest.mark.parametrize("args", [[], ["ingest"], ["sync"]])
def test_a_bare_group_prints_its_whole_help(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args, prog_name="mailatlas")
    full_help = runner.invoke(cli, [*args, "--help"], prog_name="mailatlas").stdout
    # click's convention for a group without a command: its help, exit 2 (usage).
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == full_help
    assert full_help.startswith(f"Usage: {' '.join(['mailatlas', *args])} [OPTIONS] COMMAND")
    assert "\nCommands:\n" in full_help
    assert "Error:" not in result.stderr


def _mail(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    for i in range(count):
        (folder / f"{i}.eml").write_bytes(make_message(f"Note {i}", f"body {i}", day=i + 1))
    return folder


def test_no_refs_leaves_document_refs_out(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", "eml", "--no-refs", str(_mail(tmp_path, 3))])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "status": "ok",
        "ingested_count": 3,
        "duplicate_count": 0,
        "failed_count": 0,
        "failures": [],
        "skipped_count": 0,
        "skipped": [],
    }
    assert result.stderr == (
        "(3 document refs not shown on a terminal — pass --refs to print them, "
        "or run `mailatlas list`)\n"
    )


def test_refs_are_printed_by_default_into_a_pipe(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["ingest", "eml", str(_mail(tmp_path, 2))])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["document_refs"]) == 2
    assert result.stderr == ""


def test_jsonl_prints_one_ref_per_line(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    mail = _mail(tmp_path, 3)
    result = runner.invoke(cli, ["ingest", "eml", "--jsonl", str(mail)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    refs = [json.loads(line) for line in lines]
    assert [r["subject"] for r in refs] == ["Note 0", "Note 1", "Note 2"]
    listed = json.loads(runner.invoke(cli, ["list"]).stdout)
    assert sorted(r["id"] for r in refs) == sorted(r["id"] for r in listed)
    assert result.stderr == "ingest eml: ok, 3 new, 0 duplicates, 0 failed\n"

    again = runner.invoke(cli, ["ingest", "eml", "--jsonl", str(mail)])
    assert (again.exit_code, again.stdout) == (0, "")
    assert again.stderr == "ingest eml: ok, 0 new, 3 duplicates, 0 failed\n"


def test_jsonl_failures_point_at_the_failures_command(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    result = runner.invoke(cli, ["ingest", "eml", "--jsonl", str(tmp_path / "empty.eml")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ingest eml: error, 0 new, 0 duplicates, 1 failed\n"
        "Error: 1 message(s) could not be ingested — see `mailatlas failures`\n"
    )


def test_jsonl_with_no_refs_is_a_usage_error(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", "eml", "--jsonl", "--no-refs", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: --jsonl prints the refs; drop --no-refs\n"
