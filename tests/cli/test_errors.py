"""Click's own usage errors are one line too (exit 2), like every MailAtlas error."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "Error: No such command 'bogus'. — see 'mailatlas --help'"),
        (
            ["ingest", "eml"],
            "Error: Missing argument 'PATH...'. — see 'mailatlas ingest eml --help'",
        ),
        (
            ["export", "x", "--format", "docx"],
            "Error: Invalid value for '-f' / '--format': 'docx' is not one of 'json', "
            "'markdown', 'html', 'pdf'. — see 'mailatlas export --help'",
        ),
        (
            ["list", "--limit", "many"],
            "Error: Invalid value for '--limit': 'many' is not a valid integer "
            "range. — see 'mailatlas list --help'",
        ),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailatlas_cli", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [expected]


@pytest.mark.slow
def test_help_and_version_still_exit_zero() -> None:
    for args in (["--help"], ["list", "-h"], ["--version"]):
        done = subprocess.run(
            [sys.executable, "-m", "mailatlas_cli", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0 and done.stdout and done.stderr == "", args
