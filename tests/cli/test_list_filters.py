"""`mailatlas list` filters on real parsed mail: recipients, Message-ID, sender by domain
and name, search syntax, dates (sent or received, ISO or relative), output forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli
from mailatlas_core import InvalidFilterError

from tests.backends import StoreSpec

from .conftest import make_message


def _received(raw: bytes, when: str) -> bytes:
    """The message as a server delivered it at ``when`` (a Received: header on top)."""
    return f"Received: from mx.example.test by mail.example.test; {when}\r\n".encode() + raw


@pytest.fixture
def stored(store_spec: StoreSpec, tmp_path: Path) -> dict[str, str]:
    """Four messages; returns subject -> id."""
    mail = [
        (
            "January invoice",
            make_message(
                "January invoice",
                "invoice attached",
                sender="Ada Lovelace <ada@lists.gnome.org>",
                to="Charles Babbage <charles@example.test>",
                message_id="<jan-invoice@example.test>",
                day=1,
            ).replace(b"May 2024", b"Jan 2024"),
            # dated January, delivered in May: found by its sent date
            "Wed, 15 May 2024 10:00:00 +0000",
        ),
        (
            "Budget",
            make_message(
                "Budget",
                "the budget for parsers",
                sender="Bob <bob@example.test>",
                to="Ada <ada@lists.gnome.org>, Dan <dan@example.test>",
                day=2,
            ).replace(b"Subject:", b"Cc: Eve Moneypenny <eve@example.test>\nSubject:", 1),
            "Thu, 2 May 2024 09:31:00 +0000",
        ),
        (
            "Lunch",
            make_message(
                "Lunch",
                "pizza or sushi",
                sender="Carol Jones <carol@gnome.org.evil.test>",
                to="Team <team@example.test>",
                day=3,
            ),
            "Fri, 3 May 2024 09:31:00 +0000",
        ),
    ]
    paths = []
    for i, (_subject, raw, when) in enumerate(mail):
        path = tmp_path / "in" / f"{i}.eml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(_received(raw, when))
        paths.append(path)
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        refs = atlas.ingest_eml(paths)
    return {r.subject: r.id for r in refs}


def _subjects(runner: CliRunner, *args: str) -> list[str]:
    result = runner.invoke(cli, ["list", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return sorted(r["subject"] for r in json.loads(result.stdout))


def test_to_cc_and_addresses_in_search(runner: CliRunner, stored: dict[str, str]) -> None:
    assert _subjects(runner, "--to", "charles@example.test") == ["January invoice"]
    assert _subjects(runner, "--to", "CHARLES@example.test") == ["January invoice"]
    assert _subjects(runner, "--to", "dan@example.test") == ["Budget"]
    assert _subjects(runner, "--cc", "dan@example.test") == []
    assert _subjects(runner, "--cc", "eve@example.test") == ["Budget"]
    assert _subjects(runner, "--to", "eve@example.test") == []
    assert _subjects(runner, "--query", "Moneypenny") == ["Budget"]
    assert _subjects(runner, "--to", "example.test") == []  # an address, not a pattern
    assert _subjects(runner, "--query", "dan@example.test") == ["Budget"]
    assert _subjects(runner, "--query", "Babbage") == ["January invoice"]


def test_message_id_and_sender_by_domain_and_name(
    runner: CliRunner, stored: dict[str, str]
) -> None:
    assert _subjects(runner, "--message-id", "<jan-invoice@example.test>") == ["January invoice"]
    assert _subjects(runner, "--message-id", "jan-invoice@example.test") == ["January invoice"]
    assert _subjects(runner, "--sender", "gnome.org") == ["January invoice"]  # subdomain too
    assert _subjects(runner, "--sender", "@example.test") == ["Budget"]
    assert _subjects(runner, "--sender", "lovelace") == ["January invoice"]
    assert _subjects(runner, "--sender", "Carol Jones") == ["Lunch"]
    assert _subjects(runner, "--sender", "bob@example.test") == ["Budget"]
    assert _subjects(runner, "--sender", "ob@example.test") == []


def test_search_syntax(runner: CliRunner, stored: dict[str, str]) -> None:
    assert _subjects(runner, "--query", "invoice OR budget") == ["Budget", "January invoice"]
    assert _subjects(runner, "--query", "pars*") == ["Budget"]
    assert _subjects(runner, "--query", '"pizza or sushi"') == ["Lunch"]
    assert _subjects(runner, "--query", "pizza NOT sushi") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("invoice OR", "Error: cannot read the search 'invoice OR' (syntax error near \"\")"),
        ('"unclosed', "Error: search '\"unclosed' has an unclosed quote"),
    ],
)
def test_a_search_syntax_error_is_one_usage_line(
    runner: CliRunner, stored: dict[str, str], query: str, message: str
) -> None:
    result = runner.invoke(cli, ["list", "--query", query])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_dates_filter_on_the_sent_date_by_default(
    runner: CliRunner, stored: dict[str, str]
) -> None:
    january = ["--since", "2024-01-01", "--until", "2024-02-01"]
    assert _subjects(runner, *january) == ["January invoice"]
    assert _subjects(runner, *january, "--date-field", "received") == []
    may = ["--since", "2024-05-01", "--until", "2024-06-01", "--date-field", "received"]
    assert _subjects(runner, *may) == ["Budget", "January invoice", "Lunch"]
    assert _subjects(runner, "--since", "2024-05-02T09:30:00Z", "--until", "2024-05-03") == [
        "Budget"
    ]
    assert _subjects(runner, "--since", "7d") == []  # all of it is from 2024
    assert _subjects(runner, "--until", "yesterday") == ["Budget", "January invoice", "Lunch"]


@pytest.mark.parametrize("bad", ["2024-13-45", "yesterdays", "7x", "last decade", ""])
def test_a_bad_date_is_a_usage_error_in_cli_and_api(
    runner: CliRunner, store_spec: StoreSpec, stored: dict[str, str], bad: str
) -> None:
    result = runner.invoke(cli, ["list", "--since", bad])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"Error: --since {bad!r} is not a date — use YYYY-MM-DD")
    with (
        MailAtlas(store_spec.db, store_spec.workspace) as atlas,
        pytest.raises(InvalidFilterError, match=f"^since {bad!r} is not a date"),
    ):
        atlas.list_documents(since=bad)


def test_the_api_takes_the_same_dates(store_spec: StoreSpec, stored: dict[str, str]) -> None:
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        by_text = atlas.list_documents(since="2024-01-01", until="2024-02-01")
        by_date = atlas.list_documents(since=date(2024, 1, 1), until=datetime(2024, 2, 1))
        assert [r.subject for r in by_text] == [r.subject for r in by_date] == ["January invoice"]
        assert atlas.list_documents(since="yesterday") == []
        assert len(atlas.list_documents(since="last year", date_field="received")) == 0
        assert atlas.count_documents(sender="example.test") == 1
        with pytest.raises(ValueError, match="date_field must be"):
            atlas.list_documents(date_field="arrived")  # type: ignore[arg-type]


def test_relative_dates_count_back_from_now() -> None:
    from mailatlas_core._dates import parse_date_filter

    now = datetime(2024, 3, 31, 15, 45, 10, tzinfo=UTC)
    cases = {
        "today": "2024-03-31T00:00:00Z",
        "yesterday": "2024-03-30T00:00:00Z",
        "7d": "2024-03-24T15:45:10Z",
        "12h": "2024-03-31T03:45:10Z",
        "2w": "2024-03-17T15:45:10Z",
        "1mo": "2024-02-29T15:45:10Z",  # no 31 February: the month's last day
        "1y": "2023-03-31T15:45:10Z",
        "3 days ago": "2024-03-28T15:45:10Z",
        "last week": "2024-03-24T15:45:10Z",
        "Last  Month": "2024-02-29T15:45:10Z",
        "2024-01-05": "2024-01-05T00:00:00Z",
        "2024-01-05T10:00:00+02:00": "2024-01-05T08:00:00Z",
    }
    for text, expected in cases.items():
        assert parse_date_filter(text, now=now) == expected, text
    assert parse_date_filter(now - timedelta(hours=1)) == "2024-03-31T14:45:10Z"


def test_table_jsonl_and_the_page_hint(
    runner: CliRunner, stored: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = runner.invoke(cli, ["list", "--table", "--limit", "2"])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "RECEIVED", "FROM", "SUBJECT"]
    assert lines[1].split() == [
        stored["January invoice"],
        "2024-05-15",
        "10:00",
        "ada@lists.gnome.org",
        "January",
        "invoice",
    ]
    assert len(lines) == 3 and len({line.index("RECEIVED") for line in lines[:1]}) == 1
    jsonl = runner.invoke(cli, ["list", "--jsonl"])
    assert [json.loads(line)["subject"] for line in jsonl.stdout.splitlines()] == [
        "January invoice",
        "Lunch",
        "Budget",
    ]
    both = runner.invoke(cli, ["list", "--jsonl", "--table"])
    assert (both.exit_code, both.stderr) == (
        2,
        "Error: --table and --jsonl are two output forms; pick one\n",
    )

    # With a person at the terminal, stderr says how many match and how to go on.
    import mailatlas_cli._commands.read as read

    monkeypatch.setattr(read, "stderr_is_terminal", lambda: True)
    first = runner.invoke(cli, ["list", "--limit", "2"])
    assert len(json.loads(first.stdout)) == 2
    assert first.stderr == "1–2 of 3; next page: --offset 2\n"
    last = runner.invoke(cli, ["list", "--limit", "2", "--offset", "2"])
    assert last.stderr == "3–3 of 3\n"
    beyond = runner.invoke(cli, ["list", "--offset", "9"])
    assert beyond.stderr == "nothing at --offset 9: 3 match\n"
    assert runner.invoke(cli, ["list", "--to", "x@y.z"]).stderr == "no documents match\n"
