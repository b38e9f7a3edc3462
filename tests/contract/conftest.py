"""The backend-neutral contract suite: every test runs on each store backend.

``store`` is parametrised over ``sqlite`` (an SQLite file and a local workspace) and
``postgres`` (a fresh PostgreSQL database and a fresh prefix of a SeaweedFS bucket,
both real servers started once per session, see tests/servers.py). The postgres
parameter is marked ``heavy`` (run once, on Python 3.11). A test here may only use what
the public ``Store`` protocol and ``open_store`` offer, so it holds for every backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_core import Store

from tests.backends import BACKENDS, StoreSpec, located_exists, read_located, spec_for

__all__ = ["BACKENDS", "StoreSpec", "located_exists", "read_located", "spec_for"]


@pytest.fixture(params=BACKENDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    return spec_for(request.param, request, tmp_path)


@pytest.fixture
def store(spec: StoreSpec) -> Iterator[Store]:
    s = spec.open()
    try:
        yield s
    finally:
        s.close()
