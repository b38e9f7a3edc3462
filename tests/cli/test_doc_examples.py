"""Every ``python`` example in the README and the docs runs, and runs again.

Each document's examples run in order, as one script, in a fresh directory that holds
the files they name (``a.eml``, ``b.eml``, ``msg.eml``, ``message.eml``,
``archive.mbox``, ``mail/``), with the ``MAILATLAS_IMAP_*`` variables of a real test
Dovecot (its CA trusted through ``SSL_CERT_FILE``, as a system CA would be). The second
run over the same store must work too: examples may not rely on mail being new.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.mailgen import generate_messages, write_mbox
from tests.conftest import REPO_ROOT
from tests.integration.conftest import Mailbox, dovecot, mailbox

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]
__all__ = ["dovecot", "mailbox"]  # fixtures shared from tests/integration

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_DOCS = [
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted((REPO_ROOT / "packages").glob("*/README.md")),
]
EXAMPLES = {
    str(doc.relative_to(REPO_ROOT)): blocks
    for doc in _DOCS
    if (blocks := _BLOCK.findall(doc.read_text(encoding="utf-8")))
}
# What each run prints where a document's examples print something checkable.
EXPECTED_OUTPUT = {
    "README.md": ["ok 2 0\n", "ok 0 2\n"],
    "docs/manual-imap-sync.md": ["ok 3\n", "ok 0\n"],
}


def test_the_documents_with_python_examples_are_all_found() -> None:
    assert {"README.md", "docs/python-api.md", "docs/quickstart.md"} <= set(EXAMPLES)


def _workdir(path: Path) -> Path:
    mail = list(generate_messages(6, seed=31))
    path.mkdir()
    for name, raw in zip(("a.eml", "b.eml", "msg.eml", "message.eml"), mail, strict=False):
        (path / name).write_bytes(raw)
    (path / "mail").mkdir()
    (path / "mail" / "c.eml").write_bytes(mail[4])
    write_mbox(path / "archive.mbox", 5, seed=32)
    return path


def _env(box: Mailbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILATLAS_")}
    env.update(
        MAILATLAS_IMAP_HOST="127.0.0.1",
        MAILATLAS_IMAP_PORT=str(box.server.imaps_port),
        MAILATLAS_IMAP_USERNAME=box.user,
        MAILATLAS_IMAP_PASSWORD=box.password,
        MAILATLAS_IMAP_ACCESS_TOKEN=box.token(),
        SSL_CERT_FILE=str(box.server.cert_path),
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


@pytest.mark.parametrize("doc", sorted(EXAMPLES))
def test_python_examples_run_twice(doc: str, mailbox: Mailbox, tmp_path: Path) -> None:
    mail = list(generate_messages(3, seed=33))
    mailbox.server.fill_maildir(mailbox.user, "INBOX", mail[:2])
    mailbox.server.fill_maildir(mailbox.user, "Newsletters", mail[2:])
    workdir = _workdir(tmp_path / "work")
    script = "\n\n".join(EXAMPLES[doc])
    outputs = []
    for run in (1, 2):
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=workdir,
            env=_env(mailbox),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"{doc}, run {run}:\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        outputs.append(proc.stdout)
    if doc in EXPECTED_OUTPUT:
        assert outputs == EXPECTED_OUTPUT[doc]
    if "export_document" in script:
        assert (workdir / "bundle" / "document.md").is_file()
