"""The store and the file system: what ``--db`` and ``--workspace`` may and may not touch.

Through the real CLI (a subprocess): MailAtlas never changes the mode of a directory or
file it did not create, opens exactly the file named, refuses a FIFO at once, reads a
store on a read-only file system, and refuses planted links without touching their
targets.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_core._migrate import LATEST_VERSION, apply_migrations

from tests.cli.conftest import make_message
from tests.hostile.helpers import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def eml(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "a.eml"
    path.parent.mkdir()
    path.write_bytes(make_message("Hello", "Body text.", attachment=("r.txt", b"report\n")))
    return path


def _ingest(home: Path, eml: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["ingest", "eml", str(eml), "--quiet", *extra], home)


@pytest.mark.parametrize("mode", [0o755, 0o1777])
def test_db_in_a_shared_directory_leaves_its_mode_alone(
    tmp_path: Path, eml: Path, mode: int
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)  # like /tmp (sticky, world-writable) or a shared project dir
    ws = tmp_path / "ws"
    done = _ingest(tmp_path / "home", eml, "--db", str(shared / "store.db"), "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    assert _mode(shared) == mode
    assert _mode(shared / "store.db") == 0o600
    assert _mode(ws) == 0o700 and _mode(ws / "raw") == 0o700  # what MailAtlas created


def test_an_existing_workspace_keeps_its_mode(tmp_path: Path, eml: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    os.chmod(ws, 0o750)
    done = _ingest(tmp_path / "home", eml, "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    assert _mode(ws) == 0o750
    assert _mode(ws / "raw") == 0o700


def test_a_refused_database_is_not_chmodded_and_gets_no_workspace(
    tmp_path: Path, eml: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    other = shared / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    os.chmod(other, 0o644)
    before = other.read_bytes()
    ws = tmp_path / "ws"
    done = _ingest(tmp_path / "home", eml, "--db", str(other), "--workspace", str(ws))
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {other} is an SQLite database but not a MailAtlas store; "
        "point --db at a MailAtlas store or a new file\n"
    )
    assert other.read_bytes() == before
    assert _mode(other) == 0o644 and _mode(shared) == 0o755
    assert not ws.exists()


@pytest.mark.parametrize("name", ["a#b.db", "what?.db", "x%41y.db", "sp ace.db"])
def test_db_names_with_uri_characters_open_that_very_file(
    tmp_path: Path, eml: Path, name: str
) -> None:
    shared = tmp_path / "dbs"
    shared.mkdir()
    db = shared / name
    done = _ingest(tmp_path / "home", eml, "--db", str(db), "--workspace", str(tmp_path / "ws"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in shared.iterdir()) == [name]  # no "a", "what", "xAy.db"
    assert _mode(db) == 0o600
    listed = run_cli(["list", "--db", str(db), "--workspace", str(tmp_path / "ws")], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [r["subject"] for r in json.loads(listed.stdout)] == ["Hello"]


@pytest.mark.parametrize("command", ["ingest", "list"])
def test_a_fifo_as_db_is_refused_at_once(tmp_path: Path, eml: Path, command: str) -> None:
    fifo = tmp_path / "store.db"
    os.mkfifo(fifo)
    ws = tmp_path / "ws"
    args = ["ingest", "eml", str(eml), "--quiet"] if command == "ingest" else ["list"]
    done = run_cli([*args, "--db", str(fifo), "--workspace", str(ws)], tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {fifo} is a FIFO (named pipe), not a MailAtlas store; "
        "point --db at a MailAtlas store or a new file\n"
    )
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and not ws.exists()


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[Path]:
    """A read-only view of ``directory``: a read-only bind mount (root), else mode bits.

    As root, mode bits do not stop writes, so the test needs a real read-only mount;
    an ordinary user is stopped by a 0555 directory and 0444 files.
    """
    if os.geteuid() != 0:
        paths = [directory, *directory.rglob("*")]
        modes = {p: _mode(p) for p in paths}
        for p in paths:
            os.chmod(p, 0o555 if p.is_dir() else 0o444)
        try:
            yield directory
        finally:
            for p, m in modes.items():
                os.chmod(p, m)
        return
    view = directory.with_name(directory.name + "-ro")
    view.mkdir()
    bind = subprocess.run(["mount", "--bind", str(directory), str(view)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount as root here: {bind.stderr.decode().strip()}")
    try:
        remount = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(view)], capture_output=True, check=False
        )
        assert remount.returncode == 0, remount.stderr
        with pytest.raises(OSError):
            (view / "probe").touch()  # really read-only, even for root
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def _read_everything(home: Path, db: Path, ws: Path) -> list[str]:
    where = ["--db", str(db), "--workspace", str(ws)]
    listed = run_cli(["list", *where], home)
    assert listed.returncode == 0, listed.stderr
    refs = json.loads(listed.stdout)
    for ref in refs:
        shown = run_cli(["show", ref["id"], *where], home)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["subject"] == ref["subject"]
        exported = run_cli(["export", ref["id"], "--format", "markdown", *where], home)
        assert exported.returncode == 0, exported.stderr
    found = run_cli(["list", "--query", "text", *where], home)
    assert found.returncode == 0, found.stderr
    return [r["subject"] for r in refs]


@pytest.mark.slow
def test_a_store_on_a_read_only_file_system_can_be_read(tmp_path: Path, eml: Path) -> None:
    store = tmp_path / "store"
    db, ws = store / "store.db", store / "ws"
    assert _ingest(tmp_path, eml, "--db", str(db), "--workspace", str(ws)).returncode == 0
    assert not Path(f"{db}-wal").exists()  # closed cleanly: no -wal, no -shm to read
    with _read_only(store) as view:
        assert _read_everything(tmp_path, view / "store.db", view / "ws") == ["Hello"]
    assert sorted(p.name for p in store.iterdir()) == ["store.db", "ws"]


@pytest.mark.slow
def test_a_read_only_store_with_a_live_wal_shows_its_latest_commits(
    tmp_path: Path, eml: Path
) -> None:
    store = tmp_path / "store"
    db, ws = store / "store.db", store / "ws"
    assert _ingest(tmp_path, eml, "--db", str(db), "--workspace", str(ws)).returncode == 0
    writer = sqlite3.connect(db, isolation_level=None)  # a writer still has the store open
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE documents SET subject = 'Committed to the WAL only'")
        assert Path(f"{db}-wal").stat().st_size > 0
        with _read_only(store) as view:
            subjects = _read_everything(tmp_path, view / "store.db", view / "ws")
        assert subjects == ["Committed to the WAL only"]
    finally:
        writer.close()


def test_a_read_only_store_that_needs_an_upgrade_says_so(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    conn = sqlite3.connect(store / "store.db", isolation_level=None)
    apply_migrations(conn, upto=LATEST_VERSION - 1)  # as an older MailAtlas left it
    conn.close()
    with _read_only(store) as view:
        where = ["--db", str(view / "store.db"), "--workspace", str(view / "ws")]
        done = run_cli(["list", *where], tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {view / 'store.db'} was written by an older MailAtlas and must be "
        "upgraded, but it is read-only here; run any mailatlas command on it once where "
        "it is writable\n"
    )


@pytest.mark.parametrize("sub", ["raw", "failures", "tmp"])
def test_a_planted_workspace_link_is_refused_and_its_target_untouched(
    tmp_path: Path, sub: str
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.eml").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600)  # a failure: failures/
    (src / "good.eml").write_bytes(make_message("Hello", "Body."))
    ws = tmp_path / "ws"
    ws.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    os.chmod(target, 0o755)
    (ws / sub).symlink_to(target)
    done = run_cli(["ingest", "eml", str(src), "--quiet", "--workspace", str(ws)], tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {ws / sub} leads out of the workspace (a symbolic link?); "
        "remove it or choose another --workspace\n"
    )
    assert done.stdout == ""  # refused before any message was read
    assert _mode(target) == 0o755 and list(target.iterdir()) == []
