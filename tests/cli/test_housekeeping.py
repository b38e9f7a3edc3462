"""`mailatlas failures`, `mailatlas stats` and `mailatlas delete`: exact output and safety."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli

from tests.backends import StoreSpec, blob_sizes, read_located, sqlite_only

from .conftest import make_message


@pytest.fixture
def stored(store_spec: StoreSpec, tmp_path: Path) -> dict[str, str]:
    """Two good messages (one with an attachment) and one file that is not mail."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.eml").write_bytes(
        make_message(
            "With attachment",
            "see file",
            html="<p>see file</p>",
            attachment=("plan.pdf", b"%PDF-1.4 plan"),
        )
    )
    (folder / "b.eml").write_bytes(make_message("Plain", "just text", day=2))
    (folder / "c.eml").write_bytes(b"\x00\x01\x02 not mail at all \xff" * 20)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        result = atlas.ingest_eml([folder])
    assert result.failed_count == 1
    return {r.subject: r.id for r in result.refs}


def test_failures_lists_what_failed_and_why(
    runner: CliRunner, home: Path, tmp_path: Path, stored: dict[str, str]
) -> None:
    result = runner.invoke(cli, ["failures"])
    assert (result.exit_code, result.stderr) == (0, "")
    (failure,) = json.loads(result.stdout)
    assert list(failure) == [
        "id",
        "created_at",
        "run_id",
        "run_kind",
        "kind",
        "source",
        "error",
        "raw_path",
    ]
    assert (failure["run_id"], failure["run_kind"], failure["kind"]) == (1, "eml", "eml")
    assert failure["source"] == f"eml:{tmp_path / 'in' / 'c.eml'}"
    assert "not" in failure["error"] and failure["error"] == failure["error"].strip()
    assert read_located(failure["raw_path"]) == (tmp_path / "in" / "c.eml").read_bytes()
    assert json.loads(runner.invoke(cli, ["failures", "--run", "2"]).stdout) == []
    table = runner.invoke(cli, ["failures", "--table"]).stdout.splitlines()
    assert table[0].split() == ["WHEN", "RUN", "SOURCE", "ERROR"]
    assert str(tmp_path / "in" / "c.eml") in table[1]


def test_failures_of_a_missing_store_is_a_usage_error(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["failures"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no MailAtlas store at ")
    assert not home.exists()  # read-only: nothing created


def test_stats_counts_and_sizes(
    runner: CliRunner, store_spec: StoreSpec, stored: dict[str, str]
) -> None:
    result = runner.invoke(cli, ["stats"])
    assert (result.exit_code, result.stderr) == (0, "")
    stats = json.loads(result.stdout)
    # The database with its -wal and -shm as they were while stats ran (closing the
    # last connection folds the WAL back in).
    db_bytes = stats["database_bytes"]
    assert db_bytes > 0
    if store_spec.backend == "sqlite":
        assert db_bytes >= Path(store_spec.db).stat().st_size
    ws_bytes = sum(blob_sizes(store_spec).values())
    assert stats == {
        "documents": 2,
        "assets": 1,
        "asset_bytes": len(b"%PDF-1.4 plan"),
        "locations": 2,
        "failures": 1,
        "runs": 1,
        "database_bytes": db_bytes,
        "workspace_bytes": ws_bytes,
        "total_bytes": db_bytes + ws_bytes,
        "by_source_kind": {"eml": 2},
        "by_folder": {},
        "oldest": "2024-05-01T09:30:00Z",
        "newest": "2024-05-02T09:30:00Z",
    }


def _raw_file(runner: CliRunner, doc_id: str) -> Path:
    return Path(json.loads(runner.invoke(cli, ["show", doc_id]).stdout)["raw_path"])


def test_delete_removes_the_document_its_files_and_index_entries(
    runner: CliRunner, store_spec: StoreSpec, stored: dict[str, str]
) -> None:
    doc_id = stored["With attachment"]
    raw = json.loads(runner.invoke(cli, ["show", doc_id]).stdout)["raw_path"]
    html = store_spec.located(f"html/{doc_id}.html")
    assert raw.startswith(store_spec.located("raw/"))
    asset = store_spec.located(f"assets/{doc_id}/plan.pdf")
    before = blob_sizes(store_spec)
    assert {raw, html, asset} <= set(before)
    size = before[raw] + before[html] + before[asset]
    assert [r["id"] for r in json.loads(runner.invoke(cli, ["list", "--query", "see"]).stdout)]

    result = runner.invoke(cli, ["delete", doc_id])
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "id": doc_id,
        "deleted": True,
        "files_removed": [raw, html, asset],
        "files_left": [],
        "bytes_freed": size,
    }
    after = blob_sizes(store_spec)
    assert set(before) - set(after) == {raw, html, asset}
    assert not any(f"/assets/{doc_id}/" in where for where in after)
    assert json.loads(runner.invoke(cli, ["list", "--query", "see"]).stdout) == []
    assert [r["subject"] for r in json.loads(runner.invoke(cli, ["list"]).stdout)] == ["Plain"]
    again = runner.invoke(cli, ["delete", doc_id])
    assert (again.exit_code, again.stdout) == (2, "")
    assert again.stderr == (
        f"Error: no document with id {doc_id!r}; run `mailatlas list` to see ids\n"
    )
    if store_spec.backend != "sqlite":
        return
    assert not Path(store_spec.located(f"assets/{doc_id}")).exists()
    conn = sqlite3.connect(store_spec.db)
    for table in ("assets", "locations"):
        assert conn.execute(
            f"SELECT count(*) FROM {table} WHERE document_id = ?", (doc_id,)
        ).fetchone() == (0,)
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")
    conn.close()


@sqlite_only  # links and foreign files in a local workspace
def test_delete_never_touches_what_mailatlas_did_not_write(
    runner: CliRunner, home: Path, tmp_path: Path, stored: dict[str, str]
) -> None:
    doc_id = stored["With attachment"]
    ws = home / "workspace"
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    raw = _raw_file(runner, doc_id)
    raw.unlink()
    raw.symlink_to(precious)  # a link planted where the raw message was
    extra = ws / "assets" / doc_id / "notes.txt"
    extra.write_text("the user's own file")

    result = runner.invoke(cli, ["delete", doc_id])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["files_left"] == [
        {"path": str(raw), "reason": "not a regular file MailAtlas wrote"},
        {"path": str(ws / "assets" / doc_id), "reason": "holds files MailAtlas did not write"},
    ]
    assert result.stderr == 'Error: 2 file(s) left in place — see "files_left"\n'
    assert precious.read_text() == "keep me" and raw.is_symlink()
    assert extra.read_text() == "the user's own file"
    assert not (ws / "assets" / doc_id / "plan.pdf").exists()  # what MailAtlas wrote went


def test_delete_of_an_unknown_id_changes_nothing(
    runner: CliRunner, store_spec: StoreSpec, stored: dict[str, str]
) -> None:
    before = blob_sizes(store_spec)
    result = runner.invoke(cli, ["delete", "f" * 32])
    assert (result.exit_code, result.stdout) == (2, "")
    unknown = "f" * 32
    assert result.stderr == (
        f"Error: no document with id {unknown!r}; run `mailatlas list` to see ids\n"
    )
    assert blob_sizes(store_spec) == before
    assert len(json.loads(runner.invoke(cli, ["list"]).stdout)) == 2
