"""Concurrent and killed writers leave an exactly-once, consistent store, on every backend.

Writers are separate processes (tests/core/writer.py) opening the store from the same
``--db``/``--workspace`` strings a person would pass. "Consistent" is checked through
the public API only: every listed document's raw blob and asset blobs exist and hash
to what the row says.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys

import pytest
from mailatlas_core import ListFilter, Store

from tests.conftest import REPO_ROOT

from .conftest import StoreSpec, read_located

pytestmark = pytest.mark.slow


def _writer(spec: StoreSpec, count: int, batch: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.writer", spec.db, spec.workspace, str(count),
         str(batch), *extra],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _racing(spec: StoreSpec, writers: int, count: int, batch: int) -> list[subprocess.Popen[str]]:
    """Writers released together once all are ready (a barrier, not a clock)."""
    procs = [_writer(spec, count, batch, "--wait") for _ in range(writers)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return procs


def assert_consistent(store: Store) -> int:
    """Every document's blobs exist and match their hashes; returns the document count."""
    total = store.count_documents()
    refs = store.list_documents(ListFilter(limit=total + 1))
    assert len(refs) == total
    for ref in refs:
        doc = store.get_document(ref.id)
        assert hashlib.sha256(read_located(doc.raw_path)).hexdigest() == doc.content_hash
        for asset in doc.assets:
            assert hashlib.sha256(read_located(asset.file_path)).hexdigest() == asset.sha256
    return total


def test_three_processes_adding_the_same_messages_store_each_once(spec: StoreSpec) -> None:
    spec.open().close()  # the writers race on an existing store
    procs = _racing(spec, 3, 150, 25)
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip().endswith("done")
    store = spec.open(create=False)
    try:
        assert assert_consistent(store) == 150
        stats = store.stats()
        assert (stats.documents, stats.locations, stats.assets) == (150, 150, 150)
    finally:
        store.close()


def test_writers_creating_a_fresh_store_at_once(spec: StoreSpec) -> None:
    procs = _racing(spec, 2, 40, 10)
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    store = spec.open(create=False)
    try:
        assert assert_consistent(store) == 40
    finally:
        store.close()


@pytest.mark.parametrize("seed", range(2))
def test_writer_killed_mid_batch_then_rerun(spec: StoreSpec, seed: int) -> None:
    count, batch = 60, 10
    kill_after = random.Random(seed).randrange(batch + 1, count - 1)
    proc = _writer(spec, count, batch, "--hold-at", str(kill_after))
    assert proc.stdout is not None
    for line in proc.stdout:  # progress-driven: the writer holds once message N was added
        if line == f"added {kill_after}\n":
            proc.send_signal(signal.SIGKILL)
            break
    else:
        raise AssertionError(f"the writer ended before adding message {kill_after}")
    proc.wait(timeout=120)
    store = spec.open(create=False)
    try:
        # Every batch before the held one committed; nothing of the held one did.
        assert assert_consistent(store) == kill_after // batch * batch
    finally:
        store.close()
    rerun = _writer(spec, count, batch)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    store = spec.open(create=False)
    try:
        assert assert_consistent(store) == count
        assert store.stats().locations == count
    finally:
        store.close()
