"""Ctrl-C during `mailatlas sync imap` against a real Dovecot: exit 130, the summary, resume.

On SQLite + files at MAILATLAS_HOME's default place and on PostgreSQL + S3 named by
MAILATLAS_DB / MAILATLAS_WORKSPACE (the whole module is heavy)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from devkit.dovecot import DovecotServer
from devkit.faultproxy import FaultProxy
from tests.backends import BACKENDS, committed, spec_for
from tests.cli.test_subprocess import _env, _script
from tests.cli.test_terminal import SAFETY_TIMEOUT
from tests.hostile.helpers import wait_for

from .conftest import Mailbox, message

pytestmark = [pytest.mark.dovecot, pytest.mark.slow, pytest.mark.heavy]


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_during_sync_prints_the_interrupted_summary(
    backend: str,
    request: pytest.FixtureRequest,
    dovecot: DovecotServer,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    body = "x" * 3000
    dovecot.fill_maildir(
        mailbox.user, "INBOX", [message(i, tag="sigint", body=body) for i in range(1_200)]
    )
    home = tmp_path / "home"
    spec = spec_for(backend, request, home, migrated=True)
    env = {
        **_env(home),
        **({} if spec.backend == "sqlite" else spec.env()),
        "MAILATLAS_IMAP_HOST": "127.0.0.1",
        "MAILATLAS_IMAP_USERNAME": mailbox.user,
        "MAILATLAS_IMAP_PASSWORD": mailbox.password,
        "MAILATLAS_IMAP_CA_FILE": str(dovecot.cert_path),
    }
    with FaultProxy("127.0.0.1", dovecot.imaps_port) as proxy:
        # ~3.3 kB a message, 500 a batch: the first batch commits once the second is
        # downloaded, then the server goes silent inside the third. The sync waits
        # (timeout 300 s) and cannot finish before the signal.
        proxy.stall_after(4_000_000)
        proc = subprocess.Popen(
            [_script(), "sync", "imap", "--port", str(proxy.port), "--timeout", "300"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            wait_for(
                lambda: committed(spec) >= 500,
                "the first committed batch",
                timeout=SAFETY_TIMEOUT,
            )
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=SAFETY_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stored = committed(spec)
        # The same mailbox (host, port, user) resumes from its cursor: the stall was
        # armed for one connection only.
        rerun = subprocess.run(
            [_script(), "sync", "imap", "--port", str(proxy.port)],
            capture_output=True,
            env=env,
            timeout=SAFETY_TIMEOUT,
        )

    summary = json.loads(stdout)
    assert proc.returncode == 130, stderr
    assert (summary["status"], summary["ingested_count"], stored) == ("interrupted", 500, 500)
    assert summary["folders"][0]["status"] == "interrupted"
    assert stderr.decode() == "interrupted: 500 stored; rerun to resume\n"

    assert rerun.returncode == 0, rerun.stderr
    again = json.loads(rerun.stdout)
    assert (again["status"], again["ingested_count"], again["duplicate_count"]) == ("ok", 700, 0)
    assert committed(spec) == 1_200
