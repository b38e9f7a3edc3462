"""Fixtures for the store tests.

``store`` runs each test on every backend (SQLite + files, and PostgreSQL + S3 in the
heavy leg; see tests/backends.py); ``sqlite_store`` is for tests about SQLite itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_core import Store, open_store
from mailatlas_core._sqlite_store import SQLiteStore

from tests.backends import BACKENDS, spec_for


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of each backend."""
    s = spec_for(request.param, request, tmp_path, migrated=True).open()
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store in ``tmp_path``."""
    s = open_store(tmp_path / "store.db", tmp_path / "ws")
    assert isinstance(s, SQLiteStore)
    yield s
    s.close()
