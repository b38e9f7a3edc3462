"""A fresh venv with only mailatlas-core and mailatlas-clean installed parses a file
and ingests it into a store (no click, no CLI). The two wheels are the ones
``./scripts/install`` built for the session (tests/installs.py): built once, not again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.installs import ScriptInstall, fresh_venv

from .helpers import message

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

SCRIPT = """
import importlib.util, json, os, sys
from mailatlas_clean import ingest_paths, parse_eml
from mailatlas_core import open_store
doc = parse_eml(sys.argv[1])
store = open_store(os.path.join(sys.argv[2], "s.db"), os.path.join(sys.argv[2], "ws"))
stored = ingest_paths(store, "eml", sys.argv[1])
print(json.dumps({
    "subject": doc.subject,
    "stored": [ref.id == doc.id for ref in stored],
    "click": importlib.util.find_spec("click") is not None,
    "imapclient": importlib.util.find_spec("imapclient") is not None,
    "cli": importlib.util.find_spec("mailatlas_cli") is not None,
}))
"""


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_core_and_clean_alone_parse_a_file(script_install: ScriptInstall, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    install = _pip(
        python,
        "install",
        str(script_install.wheel("mailatlas_core")),
        str(script_install.wheel("mailatlas_clean")),
    )
    assert install.returncode == 0, install.stderr[-2000:]
    eml = tmp_path / "m.eml"
    eml.write_bytes(message())
    run = subprocess.run(
        [str(python), "-c", SCRIPT, str(eml), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        '{"subject": "Test", "stored": [true], "click": false, "imapclient": false, "cli": false}'
    )
