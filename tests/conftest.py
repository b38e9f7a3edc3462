"""Shared test fixtures.

The real-world corpus lives outside the repository (``../shared/corpus`` by default,
or ``$MAILATLAS_CORPUS``). Outside CI, tests that need it skip with a reason when it is
missing; in CI (``CI=true`` or ``MAILATLAS_REQUIRE_CORPUS=1``) its absence is a failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # makes ``devkit`` importable


def _corpus_path() -> Path:
    return Path(os.environ.get("MAILATLAS_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


def _corpus_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("MAILATLAS_REQUIRE_CORPUS") == "1"
    )


CORPUS_DIR = _corpus_path()

# The real PostgreSQL and S3 servers (session fixtures: postgres_server, pg_url, ...),
# and ./scripts/install run once for the install tests (script_install).
pytest_plugins = ["tests.servers", "tests.installs"]


def corpus_files() -> list[Path]:
    """Every message file in the corpus (``.eml``, ``.mbox``, ``.msg``), sorted."""
    if not CORPUS_DIR.is_dir():
        return []
    return sorted(
        p for p in CORPUS_DIR.rglob("*") if p.is_file() and p.suffix in {".eml", ".mbox", ".msg"}
    )


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The corpus directory; skips (or fails in CI) when it is absent."""
    if not CORPUS_DIR.is_dir():
        msg = f"real-world corpus not found at {CORPUS_DIR} (set MAILATLAS_CORPUS)"
        if _corpus_required():
            pytest.fail(msg + "; CI requires it")
        pytest.skip(msg)
    return CORPUS_DIR


def pytest_sessionstart(session: pytest.Session) -> None:
    if _corpus_required() and not CORPUS_DIR.is_dir():
        raise pytest.UsageError(f"CI requires the corpus at {CORPUS_DIR}; it is missing")
