"""``mailatlas list`` and ``mailatlas show``: exact JSON, filters, paging, read-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli

from tests.backends import StoreSpec, blob_sizes, read_located, store_rows

from .conftest import make_message


@pytest.fixture
def stored(store_spec: StoreSpec, tmp_path: Path) -> list[str]:
    """Three stored messages (oldest first); returns their ids."""
    paths = []
    for day, (subject, sender, body) in enumerate(
        [
            ("Quarterly invoice", "Ada <ada@example.test>", "the invoice is attached"),
            ("Lunch on Friday", "Bob <bob@example.test>", "pizza or sushi"),
            ("Invoice reminder", "Ada <ada@example.test>", "second invoice reminder"),
        ],
        start=1,
    ):
        path = tmp_path / "in" / f"{day}.eml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(make_message(subject, body, sender=sender, day=day))
        paths.append(path)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        return [ref.id for ref in atlas.ingest_eml(paths)]


def _list(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(cli, ["list", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def test_list_is_newest_first_and_pages(runner: CliRunner, stored: list[str]) -> None:
    assert [r["id"] for r in _list(runner)] == stored[::-1]
    assert [r["id"] for r in _list(runner, "--limit", "1", "--offset", "1")] == [stored[1]]
    assert _list(runner, "--offset", "5") == []


def test_list_filters(runner: CliRunner, stored: list[str]) -> None:
    assert {r["id"] for r in _list(runner, "--query", "invoice")} == {stored[0], stored[2]}
    assert [r["id"] for r in _list(runner, "--sender", "bob@example.test")] == [stored[1]]
    assert [r["id"] for r in _list(runner, "--since", "2024-05-02", "--until", "2024-05-03")] == [
        stored[1]
    ]
    assert len(_list(runner, "--source-kind", "eml")) == 3
    assert _list(runner, "--source-kind", "imap") == []
    assert _list(runner, "--folder", "INBOX") == []


def test_list_prints_refs(runner: CliRunner, stored: list[str]) -> None:
    first = _list(runner, "--limit", "1")[0]
    assert list(first) == [
        "id",
        "subject",
        "source_kind",
        "created_at",
        "sender_email",
        "received_at",
    ]
    assert first["subject"] == "Invoice reminder"
    assert first["received_at"] == "2024-05-03T09:30:00Z"


def test_show_prints_the_stored_document(
    runner: CliRunner, store_spec: StoreSpec, stored: list[str]
) -> None:
    result = runner.invoke(cli, ["show", stored[0]])
    assert result.exit_code == 0, result.output
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        expected = atlas.get_document(stored[0]).to_dict()
    assert json.loads(result.stdout) == expected
    assert expected["subject"] == "Quarterly invoice"
    assert "the invoice is attached" in expected["body_text"]
    if store_spec.backend == "sqlite":
        assert Path(expected["raw_path"]).is_absolute()
    else:
        assert expected["raw_path"].startswith(store_spec.workspace + "/raw/")


def test_show_exposes_the_parts_manifest(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    path = tmp_path / "parts.eml"
    raw = make_message(
        "Parts", "plain text", html="<p>rich text</p>", attachment=("notes.txt", b"a file")
    )
    path.write_bytes(raw)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        (ref,) = atlas.ingest_eml([path])
    result = runner.invoke(cli, ["show", ref.id])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    parts = shown["metadata"]["parts"]
    assert [(p["part"], p["content_type"], p["stored_as"]) for p in parts] == [
        ("1.1", "text/plain", "body_text"),
        ("1.2", "text/html", "body_html"),
        ("2", "application/octet-stream", "asset"),
    ]
    (asset,) = shown["assets"]
    assert (parts[2]["asset"], parts[2]["filename"]) == (asset["ordinal"], "notes.txt")
    assert read_located(asset["file_path"]) == b"a file"


def test_unknown_id_is_a_usage_error(runner: CliRunner, stored: list[str]) -> None:
    for args in (["show", "0" * 32], ["export", "0" * 32, "--format", "markdown"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: no document with id '{'0' * 32}'; run `mailatlas list` to see ids\n"
        )
        assert "Traceback" not in result.output


def test_read_commands_never_create_a_store(
    runner: CliRunner, home: Path, store_spec: StoreSpec
) -> None:
    # PostgreSQL + S3: an empty database and a fresh prefix, named by MAILATLAS_*.
    where = f"at {(home / 'store.db').absolute()}"
    if store_spec.backend != "sqlite":
        where = f"in {store_spec.db}"
    for args in (["list"], ["show", "abc"], ["export", "abc", "--format", "pdf"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"Error: no MailAtlas store {where}; ingest or sync "
            "some mail first, or point --db at an existing store\n"
        )
        assert "Traceback" not in result.output
    assert not home.exists()
    assert not blob_sizes(store_spec)
    if store_spec.backend != "sqlite":  # not a table made
        tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        assert store_rows(store_spec.db, tables) == [(0,)]


def test_bad_date_is_a_usage_error(runner: CliRunner, stored: list[str]) -> None:
    result = runner.invoke(cli, ["list", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --since 'last tuesday' is not a date — use YYYY-MM-DD, an ISO-8601 "
        "timestamp, today, yesterday, Nh/Nd/Nw/Nmo/Ny (e.g. 7d), 'N days ago' (hours, "
        "weeks, months, years) or 'last week|month|year'; in UTC\n"
    )
