"""``mailatlas ingest`` of two different messages with one Message-ID (a forged one first)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from mailatlas_cli._main import cli

from tests.backends import StoreSpec, read_located

from .conftest import make_message

MID = "<q2-report@bank.example>"


def test_the_second_message_with_a_forged_message_id_is_stored(
    runner: CliRunner, store_spec: StoreSpec, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    forged = make_message(
        "Urgent: pay now",
        "Send the money to Mallory.",
        message_id=MID,
        sender="Bank <news@bank.example>",
    )
    real = make_message(
        "Q2 report",
        "Revenue grew in every region.",
        message_id=MID,
        sender="Bank <news@bank.example>",
    )
    (mail / "1-forged.eml").write_bytes(forged)
    (mail / "2-real.eml").write_bytes(real)

    result = runner.invoke(cli, ["ingest", "eml", str(mail)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["ingested_count"], summary["duplicate_count"]) == (2, 0)
    first, second = (ref["id"] for ref in summary["document_refs"])
    assert result.stderr == (
        "Warning: two different messages share the Message-ID <q2-report@bank.example>: "
        f"stored {second} beside {first}\n"
    )

    shown = json.loads(runner.invoke(cli, ["show", second]).stdout)
    assert shown["subject"] == "Q2 report"
    assert "Revenue grew in every region." in shown["body_text"]
    assert read_located(shown["raw_path"]) == real
    assert [loc["path"] for loc in shown["locations"]] == [str(mail / "2-real.eml")]
    assert shown["metadata"]["message_id_conflict"] == {
        "message_id": "q2-report@bank.example",
        "documents": [first],
    }
    forged_doc = json.loads(runner.invoke(cli, ["show", first]).stdout)
    assert forged_doc["metadata"]["message_id_conflict"]["documents"] == [second]
    assert [loc["path"] for loc in forged_doc["locations"]] == [str(mail / "1-forged.eml")]

    # Rerun, plus the real message as another folder's copy would carry it.
    (mail / "3-copy.eml").write_bytes(b"Received: by relay.example\n" + real)
    again = runner.invoke(cli, ["ingest", "eml", str(mail), "--strip-boilerplate"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["ingested_count"], summary["duplicate_count"]) == (0, 3)
    assert again.stderr == ""
    shown = json.loads(runner.invoke(cli, ["show", second]).stdout)
    assert [loc["path"] for loc in shown["locations"]] == [
        str(mail / "2-real.eml"),
        str(mail / "3-copy.eml"),
    ]

    # Deleting the forgery unlinks it: the real message no longer names a document
    # that is gone.
    deleted = runner.invoke(cli, ["delete", first])
    assert deleted.exit_code == 0, deleted.output
    shown = json.loads(runner.invoke(cli, ["show", second]).stdout)
    assert "message_id_conflict" not in shown["metadata"]
