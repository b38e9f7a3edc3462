"""``sync imap`` following changes, ``list --flagged/--unread/--keyword``, ``show`` with
flags and ``--prune``, against a real private Dovecot changed by a second client."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from imapclient import IMAPClient
from mailatlas_cli._main import cli

from devkit.dovecot import DovecotServer, dovecot_available
from tests.backends import StoreSpec, blob_sizes
from tests.integration.conftest import message

PASSWORD = "d0ra-Pa55-word"
pytestmark = pytest.mark.dovecot


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    if not dovecot_available():
        msg = "dovecot-imapd/openssl not installed (apt-get install dovecot-imapd openssl)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; CI requires them")
        pytest.skip(msg)
    srv = DovecotServer(users={"dora": PASSWORD})
    try:
        srv.start()
        srv.append("dora", "INBOX", [message(i, tag="cli") for i in range(3)])
        yield srv
    finally:
        srv.cleanup()


def test_list_show_and_prune_follow_the_server(
    runner: CliRunner, server: DovecotServer, store_spec: StoreSpec
) -> None:
    env = {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_PORT": str(server.imaps_port),
        "MAILATLAS_IMAP_USERNAME": "dora",
        "MAILATLAS_IMAP_PASSWORD": PASSWORD,
        "MAILATLAS_IMAP_CA_FILE": str(server.cert_path),
    }
    first = runner.invoke(cli, ["sync", "imap", "--quiet"], env=env)
    assert first.exit_code == 0, first.output
    ids = {r["subject"]: r["id"] for r in json.loads(first.stdout)["folders"][0]["document_refs"]}
    one, two, three = (ids[f"Message cli {i}"] for i in range(3))

    client = IMAPClient("127.0.0.1", port=server.imap_port, ssl=False)
    client.login("dora", PASSWORD)
    client.select_folder("INBOX")
    client.add_flags([1], [b"\\Flagged", b"\\Seen"])
    client.add_flags([2], [b"$Work"])
    client.add_flags([3], [b"\\Seen", b"\\Deleted"])
    client.uid_expunge([3])
    client.logout()

    second = runner.invoke(cli, ["sync", "imap", "--quiet"], env=env)
    assert second.exit_code == 0, second.output
    folder = json.loads(second.stdout)["folders"][0]
    counts = (folder["flag_change_count"], folder["removed_count"], folder["moved_count"])
    assert counts == (2, 1, 0)

    def listed(*args: str) -> list[str]:
        out = runner.invoke(cli, ["list", *args])
        assert out.exit_code == 0, out.output
        return [r["id"] for r in json.loads(out.stdout)]

    assert listed("--flagged") == [one]
    assert listed("--unread") == [two]
    assert listed("--keyword", "$work", "--folder", "INBOX") == [two]
    assert listed("--keyword", "$Work", "--flagged") == []
    flags = {r["id"]: r.get("imap_flags") for r in json.loads(runner.invoke(cli, ["list"]).stdout)}
    assert flags == {
        one: {"INBOX": ["\\Flagged", "\\Seen"]},
        two: {"INBOX": ["$Work"]},
        three: None,  # gone from the server: no live location, no flags
    }
    bad = runner.invoke(cli, ["list", "--keyword", "two words"])
    assert (bad.exit_code, bad.stdout) == (2, "")
    assert "keyword must be one word" in bad.stderr

    shown = json.loads(runner.invoke(cli, ["show", one]).stdout)
    (loc,) = shown["locations"]
    assert (loc["flags"], loc["keywords"], loc["removed_at"]) == (["\\Flagged", "\\Seen"], [], None)
    assert isinstance(loc["modseq"], int) and shown["deleted_on_server"] is False
    gone = json.loads(runner.invoke(cli, ["show", three]).stdout)
    assert gone["deleted_on_server"] is True and gone["locations"][0]["removed_at"]

    pruned = runner.invoke(cli, ["sync", "imap", "--quiet", "--prune"], env=env)
    assert pruned.exit_code == 0, pruned.output
    summary = json.loads(pruned.stdout)
    assert (summary["pruned_count"], summary["pruned"]) == (1, [three])
    assert runner.invoke(cli, ["show", three]).exit_code == 2
    assert sorted(listed()) == sorted([one, two])
    assert not [where for where in blob_sizes(store_spec) if three in where]
    if store_spec.backend == "sqlite":
        assert not list(Path(store_spec.workspace).rglob(f"{three}*"))
