"""``./scripts/install`` from a clean virtualenv: the README's install command works.

It builds the four wheels and installs them together (the exact sibling pins resolve to
the fresh wheels), and the installed ``mailatlas`` stores and lists real mail. The run
is the session's ``script_install`` (tests/installs.py), whose wheels other install
tests reuse.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.installs import ScriptInstall

from .conftest import make_message

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

WHEELS = ["mailatlas_clean", "mailatlas_cli", "mailatlas_core", "mailatlas_imap"]


def test_scripts_install_into_a_clean_venv(script_install: ScriptInstall, tmp_path: Path) -> None:
    install, venv, dist = script_install.result, script_install.venv, script_install.dist
    env = script_install.env
    assert install.returncode == 0, install.stderr[-3000:]
    assert sorted(p.name.split("-")[0] for p in dist.glob("*.whl")) == WHEELS
    assert install.stderr.strip().endswith(f"at {venv}/bin/mailatlas")

    (tmp_path / "a.eml").write_bytes(make_message("Installed", "it works"))
    home = {**env, "MAILATLAS_HOME": str(tmp_path / "home")}
    mailatlas = str(venv / "bin" / "mailatlas")
    ingest = subprocess.run(
        [mailatlas, "ingest", "eml", str(tmp_path / "a.eml"), "--quiet"],
        capture_output=True, text=True, env=home, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    listed = subprocess.run(
        [mailatlas, "list"], capture_output=True, text=True, env=home, cwd=tmp_path, timeout=60
    )
    assert [ref["subject"] for ref in json.loads(listed.stdout)] == ["Installed"]
    # The installed package, not this checkout, served the command.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mailatlas_cli; print(mailatlas_cli.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv))
