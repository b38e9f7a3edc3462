"""``mailatlas worker`` and ``sync imap --all-accounts --workers N`` on the real Dovecot.

The kill test SIGKILLs workers when the store has committed given numbers of documents
(observed progress, never the clock), starts replacements, and checks at the end that
every message is stored exactly once, no lease is held and every cursor is the server's
UIDNEXT - 1.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from mailatlas_core import open_store
from mailatlas_imap import load_accounts
from mailatlas_imap._worker import enqueue_accounts

from devkit.dovecot import DovecotServer
from tests.hostile.helpers import REPO, cli_command, cli_env, run_cli
from tests.integration.conftest import files_containing, messages, new_mailbox, user_pool
from tests.integration.workqueue import (
    check_cursors,
    check_exactly_once,
    check_queue_drained,
    now_sql,
    password_env,
    store_rows,
    write_accounts,
)

FOLDERS = ("INBOX", "Archive")


@pytest.mark.dovecot
@pytest.mark.slow
def test_sync_all_accounts_with_workers(dovecot: DovecotServer, tmp_path: Path) -> None:
    boxes = [new_mailbox(dovecot) for _ in range(4)]
    expected: set[str] = set()
    for n, box in enumerate(boxes):
        for folder in FOLDERS:
            tag = f"wk{n}{folder}"
            dovecot.fill_maildir(box.user, folder, messages(3 + n, tag=tag))
            expected |= {f"{tag}.{i}@example.com" for i in range(3 + n)}
    users = [b.user for b in boxes]
    conf = write_accounts(tmp_path / "mailatlas.toml", dovecot, users, max_connections=1)
    env = password_env(dovecot, users)
    env[f"PW_{users[3]}"] = "wrong-password"  # one account fails, alone
    home = tmp_path / "home"

    done = run_cli(
        ["sync", "imap", "--config", str(conf), "--all-accounts", "--workers", "2", "-q"],
        home,
        **env,
    )

    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["account_count"], summary["error_count"]) == (
        "partial",
        4,
        1,
    )
    assert [a["account"] for a in summary["accounts"]] == users
    by_name = {a["account"]: a for a in summary["accounts"]}
    assert [by_name[u]["ingested_count"] for u in users] == [6, 8, 10, 0]
    assert [f["folder"] for f in by_name[users[0]]["folders"]] == list(FOLDERS)
    assert by_name[users[0]]["folders"][1]["last_uid"] == 3
    assert len(by_name[users[0]]["folders"][0]["document_refs"]) == 3
    failed = by_name[users[3]]
    assert failed["status"] == "error", failed
    assert "authentication" in failed["error"].lower(), failed
    assert len(summary["workers"]) == 2
    assert sum(w["item_count"] for w in summary["workers"]) == 8
    assert {w["exit_code"] for w in summary["workers"]} <= {0, 1}
    assert done.stderr.startswith("Error: 1 of 4 account(s) not synced fully: " + users[3])
    assert "wrong-password" not in done.stdout + done.stderr

    db, workspace = home / "store.db", home / "workspace"
    ok_ids = {m for m in expected if not m.startswith("wk3")}
    check_exactly_once(db, workspace, ok_ids)
    check_cursors(db, dovecot, users[:3], FOLDERS)
    states = dict(
        ((str(a), str(f)), str(s))
        for a, f, s in store_rows(db, "SELECT account, folder, state FROM work_items")
    )
    assert {s for (a, _), s in states.items() if a != users[3]} == {"done"}
    assert {s for (a, _), s in states.items() if a == users[3]} == {"failed"}

    # A second pass with the password fixed: only the failed account has anything new.
    env[f"PW_{users[3]}"] = boxes[3].password
    again = run_cli(
        ["sync", "imap", "--config", str(conf), "--all-accounts", "--workers", "3", "-q"],
        home,
        **env,
    )
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert [a["ingested_count"] for a in rerun["accounts"]] == [0, 0, 0, 12]
    check_exactly_once(db, workspace, expected)
    check_queue_drained(db, 8)
    check_cursors(db, dovecot, users, FOLDERS)
    for box in boxes:
        assert files_containing(home, box.password) == []
        assert box.password not in done.stdout + done.stderr + again.stdout + again.stderr


def _start_worker(
    conf: Path, home: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            cli_command("worker", "--config", str(conf), "--lease", "3", "-q"),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=cli_env(home, **env),
            cwd=REPO,
        )


def _most_live_leases_per_account(db: str | Path) -> int:
    """The most unexpired leases any one account holds right now."""
    try:
        rows = store_rows(
            db,
            "SELECT count(*) FROM work_items WHERE state = 'leased'"
            f" AND lease_expires >= {now_sql(db)} GROUP BY account",
        )
    except Exception:  # not created yet
        return 0
    return max((int(str(r[0])) for r in rows), default=0)


def _documents(db: str | Path) -> int:
    try:
        return int(str(store_rows(db, "SELECT count(*) FROM documents")[0][0]))
    except Exception:  # not created yet, or mid-checkpoint
        return 0


# (accounts, messages per folder, workers, batch size) per backend: the target
# shape on PostgreSQL + S3 (50 accounts x 2 folders, 4 workers); fewer accounts and more
# mail on SQLite, which has one writer at a time. Small batches: kills land mid-folder.
KILL_SHAPES = {"sqlite": (20, 60, 3, 10), "postgres": (50, 10, 4, 5)}


@pytest.mark.dovecot
@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_killed_workers_lose_nothing_and_store_everything_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    accounts, per_folder, workers, batch = KILL_SHAPES[backend]
    home = tmp_path / "home"
    home.mkdir()
    if backend == "postgres":
        db: str | Path = str(request.getfixturevalue("pg_url"))
        workspace: str | Path = str(request.getfixturevalue("s3_workspace"))
        store_env = {**request.getfixturevalue("s3_env"), "MAILATLAS_DB": str(db)}
        store_env["MAILATLAS_WORKSPACE"] = str(workspace)
    else:
        db, workspace, store_env = home / "store.db", home / "workspace", {}
    server = DovecotServer(users=user_pool(accounts))
    server.start()
    try:
        users = list(server.users)
        expected: set[str] = set()
        for n, user in enumerate(users):
            for folder in FOLDERS:
                tag = f"k{n}{folder}"
                server.fill_maildir(user, folder, messages(per_folder, tag=tag))
                expected |= {f"{tag}.{i}@example.com" for i in range(per_folder)}
        conf = write_accounts(
            tmp_path / "mailatlas.toml", server, users, max_connections=1, batch_size=batch
        )
        env = {**password_env(server, users), **store_env}
        store = open_store(db, workspace)
        enqueue_accounts(store, load_accounts(conf).select(all_accounts=True))
        store.close()

        log = tmp_path / "workers.log"
        running = [_start_worker(conf, home, env, log) for _ in range(workers)]
        rng = random.Random(14)
        total = len(expected)
        kill_at = sorted(rng.sample(range(total // 10, total * 8 // 10), 5))
        killed = 0
        deadline = time.monotonic() + 900  # a safety net only: progress drives the test
        most_live = 0
        while any(p.poll() is None for p in running):
            assert time.monotonic() < deadline, "workers did not finish"
            most_live = max(most_live, _most_live_leases_per_account(db))
            stored = _documents(db)
            if killed < len(kill_at) and stored >= kill_at[killed]:
                alive = [p for p in running if p.poll() is None]
                victim = rng.choice(alive)
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                killed += 1
                running.append(_start_worker(conf, home, env, log))
            time.sleep(0.02)  # poll interval of the observer, not a wait for an event
        assert killed == len(kill_at), f"only {killed} kills before the end"
        assert most_live == 1  # max_connections = 1, with every worker at work
        codes = [p.returncode for p in running]
        assert codes.count(-signal.SIGKILL) == killed
        assert all(c == 0 for c in codes if c != -signal.SIGKILL), log.read_text()
        assert "Traceback" not in log.read_text()

        check_exactly_once(db, workspace, expected)
        check_queue_drained(db, accounts * len(FOLDERS))
        check_cursors(db, server, users, FOLDERS)
        runs = store_rows(db, "SELECT count(*) FROM work_items WHERE attempts > 1")
        assert int(str(runs[0][0])) >= 1  # some item was resumed after its worker died
    finally:
        server.cleanup()


@pytest.mark.dovecot
@pytest.mark.slow
def test_sigterm_puts_the_item_back_at_once(dovecot: DovecotServer, tmp_path: Path) -> None:
    box = new_mailbox(dovecot)
    dovecot.fill_maildir(box.user, "INBOX", messages(400, tag="term"))
    conf = write_accounts(
        tmp_path / "mailatlas.toml", dovecot, [box.user], folders=("INBOX",), batch_size=10
    )
    home = tmp_path / "home"
    db = home / "store.db"
    worker = subprocess.Popen(
        cli_command("worker", "--config", str(conf), "--enqueue", "--lease", "600", "-q"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(home, **password_env(dovecot, [box.user])),
        cwd=REPO,
    )
    deadline = time.monotonic() + 120  # a safety net only
    while _documents(db) < 50:
        assert worker.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)  # the observer's poll interval
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 130, err
    assert err.decode().endswith("interrupted: the item in hand was put back in the queue\n")
    summary = json.loads(out)
    assert summary["status"] == "interrupted"
    assert [i["status"] for i in summary["items"]] == ["interrupted"]
    # Back in the queue now, not after the 600 s lease: the next worker finishes it.
    assert store_rows(db, "SELECT state, owner FROM work_items") == [("pending", None)]
    env = password_env(dovecot, [box.user])
    again = run_cli(["worker", "--config", str(conf), "-q"], home, **env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["items"][0]["status"] == "done"
    check_exactly_once(db, home / "workspace", {f"term.{i}@example.com" for i in range(400)})
    check_queue_drained(db, 1)
    check_cursors(db, dovecot, [box.user], ("INBOX",))


@pytest.mark.dovecot
@pytest.mark.heavy
def test_a_worker_that_cannot_open_the_store_fails_the_command_with_one_line(
    dovecot: DovecotServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The workers start first and open the store themselves (the command only queues the
    # work, without checking the workspace): a bucket they cannot use stops them before
    # they claim anything, and the command says why in one line.
    box = new_mailbox(dovecot)
    dovecot.fill_maildir(box.user, "INBOX", messages(2, tag="nostart"))
    conf = write_accounts(tmp_path / "mailatlas.toml", dovecot, [box.user])
    db = str(request.getfixturevalue("pg_url"))
    env = {**password_env(dovecot, [box.user]), **request.getfixturevalue("s3_env")}
    workspace = "s3://no-such-bucket/p"
    args = ["sync", "imap", "--config", str(conf), "--all-accounts", "--workers", "2", "-q"]
    done = run_cli([*args, "--db", db, "--workspace", workspace], tmp_path / "home", **env)

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "Error: a worker could not start: the bucket 'no-such-bucket' of"
        " s3://no-such-bucket/p does not exist; create it first\n"
    )
    store = open_store(db, workspace, check_workspace=False)
    try:
        assert store.count_documents() == 0
        queued = store.list_work()
        assert {(i.folder, i.state, i.owner) for i in queued} == {
            ("INBOX", "pending", None),
            ("Archive", "pending", None),
        }
    finally:
        store.close()
