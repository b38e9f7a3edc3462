"""Checks and builders shared by the hostile-input and fault suites."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mailatlas_core._model import ParsedDocument

REPO = Path(__file__).resolve().parents[2]
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def check_parsed(doc: ParsedDocument, raw: bytes) -> None:
    """What every parsed document guarantees, however hostile its input."""
    assert doc.raw == raw
    json.dumps(doc.metadata)
    for text in (doc.body_text, doc.subject, doc.body_html or ""):
        text.encode("utf-8")  # no lone surrogates reach the store
    names = [a.filename for a in doc.assets]
    assert len({n.casefold() for n in names}) == len(names), names
    for name in names:
        assert name not in ("", ".", "..") and not _UNSAFE_NAME.search(name), name
    html = (doc.body_html or "").lower()
    assert "<script" not in html and "javascript:" not in html


def assert_consistent(db: Path, ws: Path) -> int:
    """The store passes integrity checks and every row has its files; returns the count."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute("SELECT id, raw_path, content_hash FROM documents").fetchall()
        for _doc_id, raw_path, digest in rows:
            raw = (ws / raw_path).read_bytes()  # a row never exists without its raw file
            assert hashlib.sha256(raw).hexdigest() == digest
        for file_path, digest in conn.execute("SELECT file_path, sha256 FROM assets"):
            assert hashlib.sha256((ws / file_path).read_bytes()).hexdigest() == digest
        fts = conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0]
        assert fts == len(rows)
        return len(rows)
    finally:
        conn.close()


POLL_INTERVAL_S = 0.01


def wait_for(condition: Callable[[], bool], what: str, *, timeout: float = 120) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after a safety-net timeout.

    Fault tests act on observed progress (documents committed, workers started), never
    on elapsed time: the timeout only stops a test that would otherwise hang.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL_S)


def committed_documents(db: Path) -> int:
    """How many documents another process has committed to ``db`` so far (0 if none yet).

    Reads through a separate read-only connection, as an outside observer would.
    """
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:  # the schema is not created yet
        return 0
    finally:
        conn.close()


def message_ids(db: Path) -> list[str]:
    """Every stored Message-ID, sorted (duplicates would show up twice)."""
    conn = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in conn.execute("SELECT message_id FROM documents"))
    finally:
        conn.close()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without MAILATLAS_*, with a private MAILATLAS_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILATLAS_")}
    env["MAILATLAS_HOME"] = str(home)
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    """The real ``mailatlas`` command line, run as ``python -m mailatlas_cli``."""
    return [sys.executable, "-m", "mailatlas_cli", *args]


def run_cli(
    args: Sequence[str], home: Path, *, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI for real; returns the finished process (text output)."""
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        env=cli_env(home, **extra),
        timeout=timeout,
        check=False,
        cwd=REPO,
    )
