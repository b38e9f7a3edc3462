"""``./scripts/install`` from a clean virtualenv: the README's install command works.

It builds the four wheels and installs them together (the exact sibling pins resolve to
the fresh wheels), and the installed ``mailatlas`` stores and lists real mail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv as venv_module
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, package_index_or_skip

from .conftest import make_message

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

WHEELS = ["mailatlas_clean", "mailatlas_cli", "mailatlas_core", "mailatlas_imap"]


def test_scripts_install_into_a_clean_venv(tmp_path: Path) -> None:
    venv, dist = tmp_path / "venv", tmp_path / "dist"
    venv_module.EnvBuilder(with_pip=True).create(venv)  # a clean one, as a user would have
    package_index_or_skip(venv / "bin" / "python", tmp_path / "probe")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    install = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install"), "--venv", str(venv), "--dist", str(dist),
         "--python", sys.executable],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
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
