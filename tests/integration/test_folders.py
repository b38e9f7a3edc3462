"""Folders against the real Dovecot: `mailatlas folders`, `--all-folders` with SPECIAL-USE,
and INBOX in any case being one folder with one cursor (RFC 3501)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli._main import cli
from mailatlas_core import ListFilter, Store
from mailatlas_imap import list_imap_folders, sync_imap

from devkit.dovecot import DovecotServer

from .conftest import Mailbox, messages

pytestmark = pytest.mark.dovecot


def fill(dovecot: DovecotServer, mailbox: Mailbox) -> None:
    """INBOX 3, Newsletters 2, Archive.2024 1 (under a \\Noselect Archive), Junk 1, Trash 1."""
    user = mailbox.user
    dovecot.fill_maildir(user, "INBOX", messages(3, tag=f"{user}-in"))
    dovecot.fill_maildir(user, "Newsletters", messages(2, tag=f"{user}-news"))
    dovecot.fill_maildir(user, "Archive.2024", messages(1, tag=f"{user}-arch"))
    dovecot.fill_maildir(user, "Junk", messages(1, tag=f"{user}-junk"))
    dovecot.fill_maildir(user, "Trash", messages(1, tag=f"{user}-trash"))


def env(dovecot: DovecotServer, mailbox: Mailbox, home: Path) -> dict[str, str]:
    return {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_PORT": str(dovecot.imaps_port),
        "MAILATLAS_IMAP_USERNAME": mailbox.user,
        "MAILATLAS_IMAP_PASSWORD": mailbox.password,
        "MAILATLAS_IMAP_CA_FILE": str(dovecot.cert_path),
        "MAILATLAS_HOME": str(home),
    }


def test_folders_lists_special_use_and_counts(
    dovecot: DovecotServer, mailbox: Mailbox, tmp_path: Path
) -> None:
    fill(dovecot, mailbox)
    done = CliRunner().invoke(cli, ["folders"], env=env(dovecot, mailbox, tmp_path))
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert [row["name"] for row in json.loads(done.stdout)] == [
        "INBOX",
        "Archive",
        "Archive.2024",
        "Junk",
        "Newsletters",
        "Trash",
    ]
    assert set(rows) == {"INBOX", "Newsletters", "Archive", "Archive.2024", "Junk", "Trash"}
    picked = {
        name: (r["special_use"], r["selectable"], r["messages"], r["unseen"])
        for name, r in rows.items()
    }
    assert picked == {
        "INBOX": (None, True, 3, 3),
        "Newsletters": (None, True, 2, 2),
        "Archive": (None, False, None, None),
        "Archive.2024": (None, True, 1, 1),
        "Junk": ("\\Junk", True, 1, 1),
        "Trash": ("\\Trash", True, 1, 1),
    }
    assert rows["INBOX"]["uidnext"] == 4 and rows["INBOX"]["uidvalidity"].isdigit()
    assert rows["Archive"]["delimiter"] == "."
    assert "\\Noselect" in rows["Archive"]["attributes"]
    assert not (tmp_path / "store.db").exists()  # nothing stored

    table = CliRunner().invoke(cli, ["folders", "--table"], env=env(dovecot, mailbox, tmp_path))
    assert table.stdout.splitlines()[:2] == [
        "FOLDER        USE     MESSAGES  UNSEEN",
        "INBOX                 3         3",
    ]


def test_folders_with_a_wrong_password_is_one_line_exit_1(
    dovecot: DovecotServer, mailbox: Mailbox, tmp_path: Path
) -> None:
    values = {**env(dovecot, mailbox, tmp_path), "MAILATLAS_IMAP_PASSWORD": "wrong"}
    done = CliRunner().invoke(cli, ["folders"], env=values)
    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"Error: 127.0.0.1:{dovecot.imaps_port} refused the password")
    assert done.stderr.count("\n") == 1


def test_all_folders_skips_junk_and_trash_unless_asked(
    dovecot: DovecotServer, mailbox: Mailbox, tmp_path: Path
) -> None:
    fill(dovecot, mailbox)
    values = env(dovecot, mailbox, tmp_path)
    first = CliRunner().invoke(cli, ["sync", "imap", "--all-folders"], env=values)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert [f["folder"] for f in summary["folders"]] == ["INBOX", "Archive.2024", "Newsletters"]
    assert summary["ingested_count"] == 6

    # '*' is the same, and naming Junk adds it.
    named = ["sync", "imap", "--folder", "*", "--folder", "Junk"]
    again = CliRunner().invoke(cli, named, env=values)
    assert again.exit_code == 0, again.output
    folders = {f["folder"]: f for f in json.loads(again.stdout)["folders"]}
    assert list(folders) == ["INBOX", "Archive.2024", "Junk", "Newsletters"]
    assert [f["ingested_count"] for f in folders.values()] == [0, 0, 1, 0]

    third = CliRunner().invoke(
        cli, ["sync", "imap", "--all-folders", "--include-junk", "--include-trash"], env=values
    )
    assert third.exit_code == 0, third.output
    folders = {f["folder"]: f for f in json.loads(third.stdout)["folders"]}
    assert list(folders) == ["INBOX", "Archive.2024", "Junk", "Newsletters", "Trash"]
    assert [f["unchanged"] for f in folders.values()] == [True, True, True, True, False]
    assert folders["Trash"]["ingested_count"] == 1


def test_include_junk_without_all_folders_is_a_usage_error(tmp_path: Path) -> None:
    values = {
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_USERNAME": "u",
        "MAILATLAS_IMAP_PASSWORD": "p",
        "MAILATLAS_HOME": str(tmp_path),
    }
    done = CliRunner().invoke(cli, ["sync", "imap", "--include-junk"], env=values)
    assert done.exit_code == 2
    assert done.stderr == (
        "Error: --include-junk and --include-trash go with --all-folders — name a Junk or"
        " Trash folder with --folder to sync it alone\n"
    )


def test_inbox_in_any_case_is_one_folder_and_one_cursor(
    dovecot: DovecotServer, mailbox: Mailbox, store: Store
) -> None:
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(3, tag=f"{mailbox.user}-case"))
    first = sync_imap(store, mailbox.config(folders=("inbox",)))
    assert [(f.folder, f.ingested_count) for f in first.folders] == [("INBOX", 3)]
    second = sync_imap(store, mailbox.config(folders=("Inbox",)))
    assert second.folders[0].unchanged
    assert store.get_cursor("127.0.0.1", dovecot.imaps_port, mailbox.user, "INBOX") is not None
    assert store.count_documents(ListFilter(folder="iNbOx")) == 3


def test_a_cursor_saved_under_another_inbox_spelling_keeps_working(
    dovecot: DovecotServer, mailbox: Mailbox, sqlite_store: Store, store_dir: Path
) -> None:
    user = mailbox.user
    dovecot.fill_maildir(user, "INBOX", messages(3, tag=f"{user}-old"))
    sync_imap(sqlite_store, mailbox.config())
    # A store written before INBOX was case-insensitive, by `--folder inbox`.
    with sqlite3.connect(store_dir / "store.db") as db:
        db.execute("UPDATE imap_cursors SET folder = 'inbox'")
        db.execute("UPDATE locations SET folder = 'inbox'")
    dovecot.append(user, "INBOX", messages(1, tag=f"{user}-old", start=3))

    again = sync_imap(sqlite_store, mailbox.config(folders=("INBOX",)))
    folder = again.folders[0]
    assert (folder.folder, folder.fetched_count, folder.ingested_count) == ("INBOX", 1, 1)
    assert folder.downloaded_count == 1 and not folder.uidvalidity_reset
    assert sync_imap(sqlite_store, mailbox.config(folders=("inbox",))).folders[0].unchanged
    assert sqlite_store.count_documents(ListFilter(folder="INBOX")) == 4


def test_list_imap_folders_from_python(dovecot: DovecotServer, mailbox: Mailbox) -> None:
    fill(dovecot, mailbox)
    folders = list_imap_folders(mailbox.config(), status=False)
    assert [(f.name, f.special_use) for f in folders if f.special_use] == [
        ("Junk", "\\Junk"),
        ("Trash", "\\Trash"),
    ]
    assert all(f.messages is None for f in folders)
