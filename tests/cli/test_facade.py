"""The ``MailAtlas`` facade: the Python API of SPEC §5, batching and failures."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from mailatlas_clean import ParserConfig, parse_eml
from mailatlas_cli import IngestInterrupted, IngestResult, MailAtlas
from mailatlas_core import (
    DocumentNotFoundError,
    StorageFullError,
    StoreError,
    StoreNotFoundError,
)
from mailatlas_core._sqlite_store import SQLiteStore

from devkit.mailgen import write_mbox
from tests.backends import BACKENDS, StoreSpec, blob_sizes, spec_for

from .conftest import make_message


def test_spec_python_api_example(store_spec: StoreSpec, tmp_path: Path) -> None:
    a, b = tmp_path / "a.eml", tmp_path / "b.eml"
    a.write_bytes(make_message("First", "the first body"))
    b.write_bytes(make_message("Second", "the second body", day=2))

    doc = parse_eml(str(a), parser_config=ParserConfig(strip_boilerplate=True))
    atlas = MailAtlas(db_path=store_spec.db, workspace_path=store_spec.workspace)
    refs = atlas.ingest_eml([str(a), str(b)])
    path = atlas.export_document(refs[0].id, format="markdown", out=f"{tmp_path}/bundle/")
    atlas.close()

    assert refs[0].id == doc.id
    assert [r.subject for r in refs] == ["First", "Second"]
    assert isinstance(refs, IngestResult) and refs.refs == list(refs)
    assert path == tmp_path / "bundle" / "document.md"
    assert path.read_text().startswith("# First\n")


def test_missing_and_unreadable_files_are_failures(store_spec: StoreSpec, tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(make_message("Good", "body"))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        result = atlas.ingest_eml([tmp_path / "gone.eml", good])
    assert result.to_dict() == {
        "status": "partial",
        "ingested_count": 1,
        "duplicate_count": 0,
        "failed_count": 1,
        "document_refs": [result.refs[0].to_dict()],
        "failures": [{"source": str(tmp_path / "gone.eml"), "error": "no such file"}],
        "skipped_count": 0,
        "skipped": [],
    }


def test_reads_never_create_a_store(tmp_path: Path) -> None:
    atlas = MailAtlas(tmp_path / "none.db", tmp_path / "ws")
    with pytest.raises(StoreNotFoundError):
        atlas.list_documents()
    with pytest.raises(StoreNotFoundError):
        atlas.get_document("x")
    assert list(tmp_path.iterdir()) == []


def test_large_mbox_in_batches_then_all_duplicates(store_spec: StoreSpec, tmp_path: Path) -> None:
    mbox = tmp_path / "big.mbox"
    write_mbox(mbox, 450, seed=3)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        first = atlas.ingest_mbox([mbox])
        second = atlas.ingest_mbox([mbox])
        listed = atlas.list_documents(limit=1000)
    assert first.failed_count == 0
    assert first.ingested_count + first.duplicate_count == 450
    assert len(listed) == first.ingested_count
    assert (second.ingested_count, second.duplicate_count) == (0, 450)
    if store_spec.backend != "sqlite":
        return
    runs = sqlite3.connect(store_spec.db).execute("SELECT status, summary FROM runs").fetchall()
    assert [status for status, _ in runs] == ["ok", "ok"]
    assert json.loads(runs[1][1])["duplicate_count"] == 450


@pytest.mark.slow
def test_interrupted_ingest_keeps_committed_batches(store_spec: StoreSpec, tmp_path: Path) -> None:
    mbox = tmp_path / "big.mbox"
    write_mbox(mbox, 300, seed=4)

    def stop_after_250(result: IngestResult) -> None:
        if result.processed_count == 250:
            raise KeyboardInterrupt

    with (
        MailAtlas(store_spec.db, store_spec.workspace) as atlas,
        pytest.raises(KeyboardInterrupt) as stopped,
    ):
        atlas.ingest_mbox([mbox], progress=stop_after_250)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        kept = len(atlas.list_documents(limit=1000))
    # The interruption carries the summary of what was committed, not of what was seen.
    assert isinstance(stopped.value, IngestInterrupted)
    partial = stopped.value.result
    assert (partial.status, partial.ingested_count, len(partial.refs)) == (
        "interrupted",
        kept,
        kept,
    )
    assert partial.ingested_count + partial.duplicate_count + partial.failed_count == 200
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        resumed = atlas.ingest_mbox([mbox])
    with MailAtlas(tmp_path / "fresh.db", tmp_path / "fresh") as atlas:
        unique = atlas.ingest_mbox([mbox]).ingested_count
    assert 0 < kept <= 200  # the first batch of 200 was committed, the second was not
    assert kept + resumed.ingested_count == unique
    assert resumed.failed_count == 0
    if store_spec.backend != "sqlite":
        return
    runs = sqlite3.connect(store_spec.db).execute("SELECT status FROM runs").fetchall()
    assert [r[0] for r in runs] == ["interrupted", "ok"]


def test_get_unknown_document(store_spec: StoreSpec, tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(make_message("Good", "body"))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        atlas.ingest_eml([good])
        with pytest.raises(DocumentNotFoundError):
            atlas.get_document("f" * 32)


def test_a_message_too_large_for_the_database_fails_alone(tmp_path: Path) -> None:
    # SQLite refuses a value over its length limit (1 GB by default; lowered here). That
    # was reported as "disk full" and stopped the run; now that one message fails.
    for name, body in (("a", "first"), ("b", "y" * 300_000), ("c", "third")):
        (tmp_path / f"{name}.eml").write_bytes(make_message(f"subject {name}", body))
    with MailAtlas(tmp_path / "s.db", tmp_path / "ws") as atlas:
        store = atlas.store(create=True)
        assert isinstance(store, SQLiteStore)
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 200_000)
        result = atlas.ingest_eml(sorted(tmp_path.glob("*.eml")))
    assert (result.ingested_count, result.failed_count) == (2, 1)
    failure = result.failures[0]
    assert failure.source.endswith("b.eml") and "too large for the database" in failure.error
    assert [p.read_bytes() for p in (tmp_path / "ws" / "failures").iterdir()] == [
        (tmp_path / "b.eml").read_bytes()
    ]


def _plant_directory(path: Path) -> None:
    """A directory where the store will write a file: writing it fails for that one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()


def test_a_message_the_store_refuses_fails_alone(tmp_path: Path) -> None:
    # Any store error about one message (here: its raw file cannot be written) is one
    # failure with the raw kept, as in an IMAP sync; it used to end the whole ingest.
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.eml").write_bytes(make_message(f"subject {name}", f"body {name}"))
    refused = hashlib.sha256((tmp_path / "b.eml").read_bytes()).hexdigest()
    _plant_directory(tmp_path / "ws" / "raw" / f"{refused}.eml")  # raw/<sha256>.eml
    with MailAtlas(tmp_path / "s.db", tmp_path / "ws") as atlas:
        result = atlas.ingest_eml(sorted(tmp_path.glob("*.eml")))
        listed = {ref.subject for ref in atlas.list_documents()}
    assert (result.status, result.ingested_count, result.failed_count) == ("partial", 2, 1)
    assert listed == {"subject a", "subject c"}
    failure = result.failures[0]
    assert failure.source == str(tmp_path / "b.eml") and "cannot write" in failure.error
    assert [p.read_bytes() for p in (tmp_path / "ws" / "failures").iterdir()] == [
        (tmp_path / "b.eml").read_bytes()
    ]


def test_a_store_that_cannot_record_the_failure_stops_the_run(tmp_path: Path) -> None:
    # The message is refused and its failure cannot be written either: the store cannot
    # be written, so the run stops with that one error (committed batches stay).
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.eml").write_bytes(make_message(f"subject {name}", f"body {name}"))
    raw_hash = hashlib.sha256((tmp_path / "b.eml").read_bytes()).hexdigest()
    _plant_directory(tmp_path / "ws" / "raw" / f"{raw_hash}.eml")
    _plant_directory(tmp_path / "ws" / "failures" / f"{raw_hash}.eml")
    with MailAtlas(tmp_path / "s.db", tmp_path / "ws") as atlas:
        with pytest.raises(StoreError, match=r"cannot write .*failures") as stopped:
            atlas.ingest_eml(sorted(tmp_path.glob("*.eml")))
        assert not isinstance(stopped.value, StorageFullError)
        assert atlas.list_documents() == []  # the open batch was rolled back
    runs = sqlite3.connect(tmp_path / "s.db").execute("SELECT status FROM runs").fetchall()
    assert runs == [("interrupted",)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_read_then_an_ingest_on_one_facade(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The first call used to fix how the store was opened: after a read (opened for
    # reading, its workspace not prepared) every ingest on the same facade failed.
    (tmp_path / "a.eml").write_bytes(make_message("First", "one"))
    (tmp_path / "b.eml").write_bytes(make_message("Second", "two", day=2))
    spec = spec_for(backend, request, tmp_path / "one", migrated=True)
    with MailAtlas(spec.db, spec.workspace) as atlas:
        atlas.ingest_eml([tmp_path / "a.eml"])
    # e.g. a database copied without its workspace: a workspace not made yet
    if spec.backend == "sqlite":
        shutil.rmtree(spec.workspace)
    else:
        spec = StoreSpec(spec.backend, spec.db, f"{spec.workspace}-copy")
    with MailAtlas(spec.db, spec.workspace) as atlas:
        assert atlas.count_documents() == 1
        assert not blob_sizes(spec)  # the read made nothing
        assert spec.backend != "sqlite" or not Path(spec.workspace).exists()
        result = atlas.ingest_eml([tmp_path / "b.eml"])
        assert (result.status, result.ingested_count) == ("ok", 1)
        assert [ref.subject for ref in atlas.list_documents()] == ["Second", "First"]
    # A store not made yet (PostgreSQL: an empty database): a read says so, an ingest makes it.
    none = spec_for(backend, request, tmp_path / "none")
    with MailAtlas(none.db, none.workspace) as atlas:
        with pytest.raises(StoreNotFoundError):
            atlas.count_documents()
        assert atlas.ingest_eml([tmp_path / "a.eml"]).ingested_count == 1
        assert atlas.count_documents() == 1


def test_a_store_handed_in_is_used_and_left_open(store_spec: StoreSpec, tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(make_message("First", "one"))
    store = store_spec.open()
    with MailAtlas(store=store) as atlas:
        assert atlas.ingest_eml([tmp_path / "a.eml"]).ingested_count == 1
        assert atlas.store() is store and atlas.store(create=False) is store
        doc_id = atlas.list_documents()[0].id
    assert store.get_document(doc_id).subject == "First"  # the caller's store stays open
    store.close()
    with pytest.raises(TypeError, match="store"):
        MailAtlas(tmp_path / "s.db", tmp_path / "ws", store=store)
    with pytest.raises(TypeError, match="db_path"):
        MailAtlas()
