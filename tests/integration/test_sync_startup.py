"""A sync rerun with nothing new loads only what it runs (issue 15).

Start-up is most of such a rerun: it must not import mail-parser, nh3,
html-to-markdown, the cleaning rules or tqdm, whose import alone took longer than the
rest of the rerun; nor the fetch, change and store-step machinery a folder needs only
when something changed, the accounts file machinery (no --account), the parse pool
(no worker may start), the MCP/export code, or PostgreSQL/S3 clients for a SQLite
store. A sync with something new still parses (the other tests show it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_core import open_store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer
from tests.cli.test_startup import PROBE

from .conftest import Mailbox, messages

pytestmark = [pytest.mark.dovecot]

PARSER_STACK = {"mailparser", "nh3", "html_to_markdown", "tqdm", "mailatlas_clean.parser._parse"}

# Never loaded by a rerun with nothing new (a name covers its submodules). Each was
# loaded before the rerun path was made lazy, or is what the issue names as heavy.
NOT_ON_A_RERUN = [
    *sorted(PARSER_STACK),
    "charset_normalizer",
    "mcp",
    "pydantic",
    "psycopg",
    "boto3",
    "botocore",
    "pickle",  # the parse pool's wire format: no worker is started
    "multiprocessing",
    "importlib.metadata",  # imapclient's version comes from its dist-info (see the hook)
    "mailatlas_clean.parser",  # Message-ID peeking: only for messages to fetch
    "mailatlas_clean.pool",
    "mailatlas_clean.ingest",  # the store step
    "mailatlas_clean.readers",  # the file readers (ingest only)
    "mailatlas_clean.cleaning",
    "mailatlas_clean.attachments",
    "mailatlas_imap._fetching",  # fetch, probe and batches: a folder that changed
    "mailatlas_imap._changes",
    "mailatlas_imap._commit",
    "mailatlas_imap._gmail",
    "mailatlas_imap._accounts",  # the accounts file: --account / --all-accounts only
    "mailatlas_imap._many",
    "mailatlas_imap._secret_source",
    "mailatlas_imap._watch",
    "mailatlas_imap._worker",
    "mailatlas_cli._export",
    "mailatlas_cli._mcp",
    "mailatlas_cli._commands._accounts_sync",
    "mailatlas_core._pg_backend",
    "mailatlas_core._s3_blobs",
]


def _loaded(*args: str) -> set[str]:
    """The modules of the packages named above that ``mailatlas ARGS`` loads (in-process,
    through tests.cli.test_startup's probe)."""
    packages = sorted({n.split(".")[0] for n in NOT_ON_A_RERUN} | {"imapclient"})
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(packages), "[]", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
    assert last.startswith("["), out.stderr
    return set(json.loads(last))


def _rerun_args(dovecot: DovecotServer, mailbox: Mailbox, db: Path, ws: Path) -> list[str]:
    args = ["sync", "imap", "--host", "127.0.0.1", "--port", str(dovecot.imaps_port)]
    args += ["--username", mailbox.user, "--ca-file", str(dovecot.cert_path)]
    return [*args, "--db", str(db), "--workspace", str(ws)]


def test_a_rerun_with_nothing_new_imports_only_what_it_runs(
    dovecot: DovecotServer, mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.fill_maildir(mailbox.user, "INBOX", messages(3, tag="startup"))
    db, ws = tmp_path / "store.db", tmp_path / "ws"
    store = open_store(db, ws)
    try:
        assert sync_imap(store, mailbox.config()).ingested_count == 3
    finally:
        store.close()
    monkeypatch.setenv("MAILATLAS_IMAP_PASSWORD", mailbox.password)
    for quiet in ([], ["--quiet"]):
        loaded = _loaded(*_rerun_args(dovecot, mailbox, db, ws), *quiet)
        assert {"imapclient", "mailatlas_core._sqlite_store"} <= loaded  # the sync did run
        heavy = sorted(
            m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_ON_A_RERUN)
        )
        assert heavy == [], f"a rerun with nothing new loaded {heavy}"
