"""The message-to-store pipeline in the library: ``ingest_paths`` without the CLI, into
SQLite + files and (heavy) PostgreSQL + S3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_clean import IngestResult, ingest_paths, parse_bytes

from devkit.mailgen import write_mbox
from tests.backends import BACKENDS, shared_spec, spec_for
from tests.conftest import REPO_ROOT

from .helpers import message

# click, the CLI and the IMAP package cannot even be imported here.
SCRIPT = """
import json, sys
for name in ("click", "mailatlas_cli", "mailatlas_imap", "imapclient"):
    sys.modules[name] = None
from mailatlas_clean import ingest_paths
from mailatlas_core import open_store

store = open_store(sys.argv[1], sys.argv[2])
out = {}
for kind, path in (("eml", sys.argv[3]), ("mbox", sys.argv[4]), ("maildir", sys.argv[5])):
    result = ingest_paths(store, kind, path, workers=0)
    out[kind] = [result.status, result.ingested_count, result.duplicate_count,
                 result.failed_count, [ref.source_kind for ref in result]]
store.close()
print(json.dumps(out))
"""


def _mail(tag: str) -> bytes:
    return message(f"Body {tag}.\n", headers="").replace(b"test-1@", f"{tag}@".encode())


@pytest.mark.parametrize("backend", BACKENDS)
def test_files_are_ingested_without_click_or_the_cli(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    emls = tmp_path / "emls"
    emls.mkdir()
    for tag in ("a", "b"):
        (emls / f"{tag}.eml").write_bytes(_mail(tag))
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(b"From x@y Mon May  6 10:00:00 2024\n" + _mail("c") + b"\n")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(_mail("d"))
    (maildir / "cur" / "2.host:2,S").write_bytes(_mail("a"))  # a copy of a.eml
    spec = spec_for(backend, request, tmp_path, migrated=True)
    args = [spec.db, spec.workspace, emls, mbox, maildir]
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "eml": ["ok", 2, 0, 0, ["eml", "eml"]],
        "mbox": ["ok", 1, 0, 0, ["mbox"]],
        "maildir": ["ok", 1, 1, 0, ["maildir"]],
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_path_and_bad_paths(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(_mail("one"))
    store = spec_for(backend, request, tmp_path, migrated=True).open()
    try:
        result = ingest_paths(store, "eml", str(eml))  # one str is one path
        gone = ingest_paths(store, "mbox", [tmp_path / "gone.mbox"])
        with pytest.raises(ValueError, match="kind must be"):
            ingest_paths(store, "pst", [eml])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"ingest_paths\(\)"):
            ingest_paths(store, "eml", 3)  # type: ignore[arg-type]
        runs = store.stats()
    finally:
        store.close()
    assert isinstance(result, IngestResult)
    assert [ref.id for ref in result] == [parse_bytes(_mail("one")).id]
    assert gone.status == "error" and "No such file" in gone.failures[0].error
    assert runs.documents == 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_mbox_in_worker_processes_matches_in_process(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    mbox = tmp_path / "big.mbox"
    write_mbox(mbox, 300, seed=7)
    found = []
    for workers in (0, 1):
        with (
            shared_spec(backend, request, tmp_path / str(workers)) as spec,
            spec.open() as store,
        ):
            result = ingest_paths(store, "mbox", mbox, workers=workers, batch_size=64)
        assert result.failed_count == 0
        found.append(sorted(ref.id for ref in result))
    assert found[0] == found[1] and len(found[0]) > 250
