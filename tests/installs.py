"""``./scripts/install`` run once per test session into a clean virtualenv (a pytest
plugin): the README's install command is tested by ``tests/cli/test_install.py``, and
the wheels it built serve every other install test, so the four wheels are built once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@dataclass(frozen=True)
class ScriptInstall:
    """What one run of ``./scripts/install --venv VENV --dist DIST`` did."""

    venv: Path
    dist: Path
    env: dict[str, str]  # the environment it ran in (no VIRTUAL_ENV, no PYTHONPATH)
    result: subprocess.CompletedProcess[str]

    def wheel(self, name: str) -> Path:
        """The one wheel of distribution ``name`` (e.g. ``mailatlas_core``) it built."""
        assert self.result.returncode == 0, self.result.stderr[-3000:]
        (found,) = self.dist.glob(f"{name}-*.whl")
        return found


def package_index_or_skip(python: Path, dest: Path) -> None:
    """Skip the test when ``python``'s pip cannot reach a package index (install tests)."""
    probe = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "download", "--no-deps",
         "--dest", str(dest), "nh3"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"pip cannot reach a package index: {probe.stderr.strip()[-200:]}")


def fresh_venv(where: Path) -> Path:
    """A clean virtualenv with pip, as a user would make it; returns its python."""
    venv.EnvBuilder(with_pip=True).create(where)
    return where / "bin" / "python"


@pytest.fixture(scope="session")
def script_install(tmp_path_factory: pytest.TempPathFactory) -> ScriptInstall:
    """``./scripts/install`` into a fresh virtualenv, once for the session (it builds the
    four wheels with pip and installs them together)."""
    root = tmp_path_factory.mktemp("install")
    python = fresh_venv(root / "venv")
    package_index_or_skip(python, root / "probe")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install"), "--venv", str(root / "venv"),
         "--dist", str(root / "dist"), "--python", sys.executable],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
    return ScriptInstall(root / "venv", root / "dist", env, result)
