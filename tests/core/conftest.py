"""Fixtures for the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_core import open_store
from mailatlas_core._sqlite_store import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store in ``tmp_path``."""
    s = open_store(tmp_path / "store.db", tmp_path / "ws")
    assert isinstance(s, SQLiteStore)
    yield s
    s.close()
