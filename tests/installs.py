"""``./scripts/install`` run once per test session into a clean virtualenv (a pytest
plugin): the README's install command is tested by ``tests/cli/test_install.py``, and
the wheels it built serve every other install test, so the four wheels are built once.
"""

from __future__ import annotations

import fcntl
import json
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
    four wheels with pip and installs them together). Under pytest-xdist the workers
    share it too: the first to need it runs it under a lock, the others wait for that
    lock and read what it did."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the workers' base temps sit side by side in the session's
    root = shared / "scripts-install"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    command = [
        str(REPO_ROOT / "scripts" / "install"), "--venv", str(root / "venv"),
        "--dist", str(root / "dist"), "--python", sys.executable,
    ]  # fmt: skip
    with open(shared / "scripts-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "result.json"
        if not done.exists():
            root.mkdir(exist_ok=True)
            python = fresh_venv(root / "venv")
            package_index_or_skip(python, root / "probe")
            run = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=900, check=False
            )
            done.write_text(json.dumps([run.returncode, run.stdout, run.stderr]))
        returncode, stdout, stderr = json.loads(done.read_text())
    result = subprocess.CompletedProcess(command, returncode, stdout, stderr)
    return ScriptInstall(root / "venv", root / "dist", env, result)
