"""SIGKILL while a sync applies changes (flags, expunges, moves), then a rerun: the store
matches the server exactly. The kill points are driven by observed progress (the Nth
committed batch of changes, or of new mail), never by the clock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from mailatlas_core import ListFilter, open_store
from mailatlas_imap import sync_imap

from tests.backends import StoreSpec
from tests.integration.conftest import Mailbox, message
from tests.integration.live import changer, live, server_flags, servers, store_flags

__all__ = ["live", "servers"]  # fixtures

pytestmark = [pytest.mark.dovecot, pytest.mark.slow, pytest.mark.heavy]  # a process per kill

# Runs one sync in a child process that SIGKILLs itself right after the Nth committed
# batch of changes (or of new mail): mid-sync, with more batches still to come.
CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from mailatlas_core import open_store
    from mailatlas_imap import ImapSyncConfig, sync_imap
    import mailatlas_imap._changes as changes

    changes.CHANGE_BATCH = 25  # more commits, so more places to die between them
    args = json.loads(sys.argv[1])
    kind, at = args.pop("kill"), args.pop("at")
    store = open_store(args.pop("db"), args.pop("workspace"))
    config = ImapSyncConfig(**args, password=os.environ["TEST_IMAP_PASSWORD"])
    seen = 0

    def tick(*_):
        global seen
        seen += 1
        if seen == at:
            os.kill(os.getpid(), signal.SIGKILL)

    sync_imap(
        store,
        config,
        on_changes=tick if kind == "changes" else None,
        progress=tick if kind == "new" else None,
    )
    print("finished without being killed")
    """
)
FOLDERS = ("INBOX", "Archive")


KILLS = [
    ("qresync", "changes", 1),
    ("qresync", "changes", 4),
    ("qresync", "new", 1),
    ("condstore", "changes", 3),
    ("plain", "changes", 2),
    ("plain", "new", 2),
]


# Every kill point on both backends: the server modes report changes differently
# (VANISHED, CHANGEDSINCE, a full flag scan), so each drives the store's updates by a
# different path, and the first-batch kills (at 1) land before any cursor is saved.
@pytest.mark.parametrize(
    ("live", "kill", "at", "store_spec"),
    [(*k, backend) for backend in ("sqlite", "postgres") for k in KILLS],
    indirect=["live", "store_spec"],
)
def test_killed_while_applying_changes(
    live: Mailbox, store_spec: StoreSpec, kill: str, at: int
) -> None:
    server, pw = live.server, live.password
    server.append(live.user, "INBOX", [message(i, tag="kill") for i in range(120)], password=pw)
    server.append(live.user, "Archive", [message(500, tag="kill")], password=pw)
    db, ws = store_spec.db, store_spec.workspace
    config = live.config(folders=FOLDERS, batch_size=10)
    with open_store(db, ws) as store:
        assert sync_imap(store, config).ingested_count == 121

    client = changer(live)
    client.select_folder("INBOX")
    client.add_flags(list(range(1, 61)), [b"\\Flagged"])
    client.add_flags(list(range(40, 91)), [b"\\Seen", b"$Later"])
    client.add_flags(list(range(91, 121, 2)), [b"\\Deleted"])
    client.uid_expunge(list(range(91, 121, 2)))  # 15 expunged
    client.move(list(range(1, 11)), "Archive")  # 10 moved
    client.logout()
    late = [message(i, tag="kill") for i in range(200, 230)]
    server.append(live.user, "INBOX", late, password=pw)

    child = {
        "db": db,
        "workspace": ws,
        "kill": kill,
        "at": at,
        "host": config.host,
        "port": config.port,
        "username": config.username,
        "ca_file": config.ca_file,
        "folders": list(FOLDERS),
        "batch_size": 10,
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(child)],
        env={**os.environ, "TEST_IMAP_PASSWORD": pw},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr

    with open_store(db, ws) as store:
        rerun = sync_imap(store, config).to_dict()
        assert rerun["status"] == "ok"
        assert store_flags(store) == server_flags(live, FOLDERS)
        # Nothing lost, nothing twice: 121 + 30 new; the moves are no new documents;
        # the 15 expunged are kept, deleted on the server.
        assert store.count_documents() == 151
        gone = [
            ref.id
            for ref in store.list_documents(ListFilter(limit=1000))
            if store.get_document(ref.id).deleted_on_server
        ]
        assert len(gone) == 15
        again = sync_imap(store, config).to_dict()
        if live.server.capability == "+CONDSTORE":  # QRESYNC: a quiet folder is skipped
            assert [f["unchanged"] for f in again["folders"]] == [True, True]
        assert store_flags(store) == server_flags(live, FOLDERS)
