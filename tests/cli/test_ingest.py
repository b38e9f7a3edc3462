"""``mailatlas ingest``: exact summaries, exit codes, and one-line user errors."""

from __future__ import annotations

import hashlib
import json
import mailbox
from pathlib import Path

from click.testing import CliRunner
from mailatlas_cli._main import cli

from tests.backends import StoreSpec, blob_sizes, read_located

from .conftest import make_message

SUMMARY_KEYS = [
    "status",
    "ingested_count",
    "duplicate_count",
    "failed_count",
    "document_refs",
    "failures",
    "skipped_count",
    "skipped",
]
REF_KEYS = ["id", "subject", "source_kind", "created_at", "sender_email", "received_at"]


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_ingest_eml_files_and_directories(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    a = _write(tmp_path / "mail" / "a.eml", make_message("Alpha report", "alpha body"))
    _write(tmp_path / "mail" / "sub" / "b.eml", make_message("Beta report", "beta body", day=2))
    _write(tmp_path / "mail" / "notes.txt", b"not mail, and not *.eml")

    result = runner.invoke(cli, ["ingest", "eml", str(tmp_path / "mail")])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    assert list(summary) == SUMMARY_KEYS
    assert summary["status"] == "ok"
    assert (summary["ingested_count"], summary["duplicate_count"], summary["failed_count"]) == (
        2,
        0,
        0,
    )
    assert summary["failures"] == []
    refs = summary["document_refs"]
    assert [list(r) for r in refs] == [REF_KEYS, REF_KEYS]
    assert [r["subject"] for r in refs] == ["Alpha report", "Beta report"]
    assert {r["source_kind"] for r in refs} == {"eml"}
    assert refs[0]["sender_email"] == "ada@example.test"
    if store_spec.backend == "sqlite":
        assert Path(store_spec.db).is_file()
    # Raw bytes are content-addressed: raw/<sha256>.eml, byte for byte.
    raw = store_spec.located(f"raw/{hashlib.sha256(a.read_bytes()).hexdigest()}.eml")
    assert read_located(raw) == a.read_bytes()

    again = runner.invoke(cli, ["ingest", "eml", str(a)])
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {
        "status": "ok",
        "ingested_count": 0,
        "duplicate_count": 1,
        "failed_count": 0,
        "document_refs": [],
        "failures": [],
        "skipped_count": 0,
        "skipped": [],
    }


def test_ingest_mbox_and_maildir(runner: CliRunner, store_spec: StoreSpec, tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "archive.mbox"))
    for i in range(3):
        box.add(make_message(f"Mbox message {i}", f"body {i}", day=i + 1))
    box.close()
    md = mailbox.Maildir(str(tmp_path / "Maildir"))
    md.add(make_message("Maildir message", "in a maildir"))
    md.add(make_message("Maildir message two", "also in a maildir", day=3))
    md.close()

    mbox_result = runner.invoke(cli, ["ingest", "mbox", str(tmp_path / "archive.mbox")])
    maildir_result = runner.invoke(cli, ["ingest", "maildir", str(tmp_path / "Maildir")])

    assert mbox_result.exit_code == 0, mbox_result.output
    assert json.loads(mbox_result.stdout)["ingested_count"] == 3
    assert {r["source_kind"] for r in json.loads(mbox_result.stdout)["document_refs"]} == {"mbox"}
    assert maildir_result.exit_code == 0, maildir_result.output
    assert json.loads(maildir_result.stdout)["ingested_count"] == 2


def test_a_bad_message_is_a_failure_and_the_run_goes_on(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    good = _write(tmp_path / "good.eml", make_message("Good one", "fine"))
    bad = _write(tmp_path / "bad.eml", b"\x00\x01\x02 binary junk, not an email")

    result = runner.invoke(cli, ["ingest", "eml", str(bad), str(good)])

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "partial"
    assert (summary["ingested_count"], summary["failed_count"]) == (1, 1)
    assert summary["failures"][0]["source"] == str(bad)
    assert summary["failures"][0]["error"]
    assert result.stderr == (
        'Error: 1 message(s) could not be ingested — see "failures" in the summary\n'
    )
    # the raw bytes of the failure are kept in the workspace
    kept = [w for w in blob_sizes(store_spec) if w.startswith(store_spec.located("failures/"))]
    assert [read_located(w) for w in kept] == [bad.read_bytes()]

    only_bad = runner.invoke(cli, ["ingest", "eml", str(bad)])
    assert only_bad.exit_code == 1
    assert json.loads(only_bad.stdout)["status"] == "error"


def test_a_store_that_cannot_be_written_stops_with_one_line(
    runner: CliRunner, home: Path, tmp_path: Path
) -> None:
    # The message is refused (a directory where its raw file goes) and its failure cannot
    # be written either (the same in failures/): the store cannot be written.
    path = _write(tmp_path / "m.eml", make_message("Stuck", "body"))
    raw_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    raw_dir = home / "workspace" / "raw" / f"{raw_hash}.eml"
    failed_dir = home / "workspace" / "failures" / f"{raw_hash}.eml"
    for directory in (raw_dir, failed_dir):
        directory.mkdir(parents=True)

    result = runner.invoke(cli, ["ingest", "eml", str(path)])

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: cannot write {failed_dir}: Is a directory\n"


def test_cleaning_flags_reach_the_parser(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    path = _write(tmp_path / "m.eml", make_message("Flags", "body"))
    result = runner.invoke(
        cli,
        ["ingest", "eml", str(path), "--strip-boilerplate", "--no-normalize-whitespace"],
    )
    assert result.exit_code == 0, result.output
    doc_id = json.loads(result.stdout)["document_refs"][0]["id"]
    shown = json.loads(runner.invoke(cli, ["show", doc_id]).stdout)
    assert shown["metadata"]["parser_config"] == {
        "strip_forwarded_headers": False,
        "strip_boilerplate": True,
        "strip_link_only_lines": False,
        "stop_at_footer": False,
        "strip_invisible_chars": True,
        "normalize_whitespace": False,
    }


def test_db_and_workspace_options_and_env(
    runner: CliRunner, home: Path, tmp_path: Path, monkeypatch: object
) -> None:
    path = _write(tmp_path / "m.eml", make_message("Env", "body"))
    db, ws = tmp_path / "custom" / "atlas.db", tmp_path / "custom" / "ws"
    result = runner.invoke(
        cli,
        ["ingest", "eml", str(path)],
        env={"MAILATLAS_DB": str(db), "MAILATLAS_WORKSPACE": str(ws)},
    )
    assert result.exit_code == 0, result.output
    assert db.is_file() and (ws / "raw").is_dir()
    assert not home.exists()
    listed = runner.invoke(cli, ["list", "--db", str(db), "--workspace", str(ws)])
    assert [r["subject"] for r in json.loads(listed.stdout)] == ["Env"]


def _user_error(result: object, code: int, message: str) -> None:
    from click.testing import Result

    assert isinstance(result, Result)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


def test_missing_file_is_a_usage_error(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    result = runner.invoke(cli, ["ingest", "eml", str(missing)])
    _user_error(result, 2, f"no such file or directory: {missing} — check the path")
    assert not home.exists(), "a rejected command must not create a store"


def test_directory_where_a_file_was_expected(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", "mbox", str(tmp_path)])
    _user_error(
        result,
        2,
        f"{tmp_path} is a directory, but `ingest mbox` expects a file — "
        "use `mailatlas ingest maildir` for a Maildir folder",
    )


def test_file_where_a_directory_was_expected(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.mbox", b"From x\n")
    result = runner.invoke(cli, ["ingest", "maildir", str(path)])
    _user_error(
        result,
        2,
        f"{path} is a file, but `ingest maildir` expects a directory — "
        "use `mailatlas ingest mbox` for an mbox file",
    )


def test_directory_that_is_not_a_maildir(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", "maildir", str(tmp_path)])
    _user_error(
        result,
        2,
        f"{tmp_path} is not a Maildir (it has no cur/ or new/ folder) — "
        "pass the folder that holds cur/ and new/",
    )


def test_db_that_is_a_directory(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "m.eml", make_message("x", "y"))
    result = runner.invoke(cli, ["ingest", "eml", str(path), "--db", str(tmp_path)])
    _user_error(
        result,
        2,
        f"--db {tmp_path} is a directory; it must be the SQLite database file — "
        f"pass a file path such as {tmp_path / 'store.db'}",
    )


def test_no_progress_bar_off_a_terminal(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "m.eml", make_message("quiet", "y"))
    result = runner.invoke(cli, ["ingest", "eml", str(path)])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert runner.invoke(cli, ["ingest", "eml", "-q", str(path)]).stderr == ""
