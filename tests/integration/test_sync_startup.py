"""A sync rerun with nothing new loads no parser and no progress bar (issue 15).

Start-up is most of such a rerun: it must not import mail-parser, nh3,
html-to-markdown, the cleaning rules or tqdm, whose import alone took longer than the
rest of the rerun. A sync with something new still parses (the other tests show it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mailatlas_core import open_store
from mailatlas_imap import sync_imap

from devkit.dovecot import DovecotServer
from tests.cli.test_startup import _loaded

from .conftest import Mailbox, messages

pytestmark = [pytest.mark.dovecot]

PARSER_STACK = {"mailparser", "nh3", "html_to_markdown", "tqdm", "mailatlas_clean.parser._parse"}


def test_a_rerun_with_nothing_new_imports_no_parser(
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
    args = ["sync", "imap", "--host", "127.0.0.1", "--port", str(dovecot.imaps_port)]
    args += ["--username", mailbox.user, "--ca-file", str(dovecot.cert_path)]
    args += ["--db", str(db), "--workspace", str(ws)]
    for quiet in ([], ["--quiet"]):
        modules = _loaded(*args, *quiet)
        loaded = set(modules) | {m.split(".")[0] for m in modules}
        assert loaded & PARSER_STACK == set(), loaded
        assert "imapclient" in loaded  # the probe did run the sync
