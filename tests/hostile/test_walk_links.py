"""Links and special files in what the user asks MailAtlas to ingest.

A symbolic link inside a walked directory or Maildir (say, to ``/etc/shadow``) is never
followed: it is reported (a ``Warning:`` line, ``skipped_count`` and ``skipped`` in the
summary) and nothing it points at reaches the store. A path the user names is theirs
and is followed. A FIFO named as a message or an mbox is a failure at once, not a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from subprocess import PIPE

import pytest
from click.testing import CliRunner
from mailatlas_cli._main import cli
from mailatlas_core import _files as files

from tests.cli.conftest import make_message
from tests.hostile.helpers import run_cli

SECRET = b"root:$6$very-secret-hash:19000:0:99999:7:::\n"
LINK = "a symbolic link inside the directory; not followed (name its target to ingest it)"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A private file outside the mail, like /etc/shadow."""
    path = tmp_path / "private" / "shadow"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _nowhere_in(home: Path) -> None:
    for path in home.rglob("*"):
        if path.is_file():
            assert b"very-secret-hash" not in path.read_bytes(), path


def _maildir(root: Path, *messages: tuple[str, bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for name, raw in messages:
        (root / "cur" / name).write_bytes(raw)
    return root


def test_links_inside_a_maildir_are_skipped_and_reported(tmp_path: Path, secret: Path) -> None:
    box = _maildir(tmp_path / "Maildir", ("1.host:2,S", make_message("Kept", "A real one.")))
    (box / "cur" / "2.host:2,S").symlink_to(secret)
    other = _maildir(tmp_path / "Other", ("9.host:2,S", make_message("Elsewhere", "Not here.")))
    (box / ".Linked").symlink_to(other)  # a Maildir++ subfolder that is a link
    (box / "new").rmdir()
    (box / "new").symlink_to(secret.parent)  # new/ itself a link
    home = tmp_path / "home"

    done = run_cli(["ingest", "maildir", str(box)], home)
    assert done.returncode == 0, done.stderr
    skipped = [box / "cur" / "2.host:2,S", box / "new", box / ".Linked"]  # in walk order
    summary = json.loads(done.stdout)
    assert [r["subject"] for r in summary.pop("document_refs")] == ["Kept"]
    assert summary == {
        "status": "ok",
        "ingested_count": 1,
        "duplicate_count": 0,
        "failed_count": 0,
        "failures": [],
        "skipped_count": 3,
        "skipped": [{"source": str(p), "error": LINK} for p in skipped],
    }
    assert done.stderr == "".join(f"Warning: skipped {p}: {LINK}\n" for p in skipped)
    _nowhere_in(home)
    assert not (home / "workspace" / "failures").exists()


def test_links_inside_a_walked_directory_are_skipped_and_reported(
    tmp_path: Path, secret: Path
) -> None:
    mail = tmp_path / "mail"
    (mail / "deep").mkdir(parents=True)
    (mail / "deep" / "good.eml").write_bytes(make_message("Kept", "A real one."))
    (mail / "evil.eml").symlink_to(secret)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "far.eml").write_bytes(make_message("Far away", "Not named."))
    (mail / "linked-dir").symlink_to(outside)
    home = tmp_path / "home"

    done = run_cli(["ingest", "eml", str(mail)], home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    skipped = [mail / "evil.eml", mail / "linked-dir"]
    assert (summary["ingested_count"], summary["skipped_count"]) == (1, 2)
    assert summary["skipped"] == [{"source": str(p), "error": LINK} for p in skipped]
    assert done.stderr == "".join(f"Warning: skipped {p}: {LINK}\n" for p in skipped)
    _nowhere_in(home)

    # The user names the link: their choice, followed.
    named = run_cli(["ingest", "eml", str(outside / "far.eml")], home)
    assert json.loads(named.stdout)["ingested_count"] == 1


def _good(path: Path, kind: str) -> bytes:
    raw = make_message("Kept", "A real one.")
    return raw if kind == "eml" else b"From a@b Mon Jan  1 00:00:00 2024\n" + raw


@pytest.mark.parametrize("kind", ["eml", "mbox"])
def test_a_fifo_nothing_writes_to_is_a_failure_not_a_hang(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "FIFO_WAIT_S", 0.5)  # the default 10 s, shortened
    fifo = tmp_path / f"pipe.{kind}"
    os.mkfifo(fifo)
    good = tmp_path / f"good.{kind}"
    good.write_bytes(_good(good, kind))
    home = tmp_path / "home"
    monkeypatch.setenv("MAILATLAS_HOME", str(home))
    done = CliRunner().invoke(cli, ["ingest", kind, str(fifo), str(good), "--refs"])
    assert done.exit_code == 1
    summary = json.loads(done.stdout)
    assert summary["ingested_count"] == 1
    reason = "a FIFO (named pipe) that nothing wrote to within 0.5 s, not a regular file"
    if kind == "mbox":  # read by seeking: a FIFO is refused without waiting
        reason = f"cannot read mbox {fifo}: a FIFO (named pipe), not a regular file"
    assert summary["failures"] == [{"source": str(fifo), "error": reason}]
    assert done.stderr == (
        'Error: 1 message(s) could not be ingested — see "failures" in the summary\n'
    )


def test_a_fifo_with_a_writer_is_read_as_a_stream(tmp_path: Path) -> None:
    """What a shell's process substitution gives: `ingest eml <(gpg -d secret.eml.gpg)`."""
    fifo = tmp_path / "pipe.eml"
    os.mkfifo(fifo)
    data = _good(fifo, "eml")
    writer = subprocess.Popen(["sh", "-c", f'cat "$1" > "{fifo}"', "sh", "-"], stdin=PIPE)
    assert writer.stdin is not None
    writer.stdin.write(data)
    writer.stdin.close()
    done = run_cli(["ingest", "eml", str(fifo)], tmp_path / "home", timeout=120)
    assert writer.wait(timeout=60) == 0
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ingested_count"] == 1


def test_devices_are_refused_at_once(tmp_path: Path) -> None:
    done = run_cli(["ingest", "mbox", "/dev/zero"], tmp_path / "home", timeout=120)
    assert done.returncode == 1
    assert json.loads(done.stdout)["failures"] == [
        {
            "source": "/dev/zero",
            "error": "cannot read mbox /dev/zero: a character device, not a regular file",
        }
    ]
