"""The start of the extractor process is not counted in a message's time budget.

A message parsed in this process sends each attachment to the extractor process,
started on first use. On a loaded machine that start (a Python process importing the
readers) can take seconds. The file's own budget starts once the process is ready, but
the message's budget (SIGALRM here) used to run through the start: a slow start failed
the whole message ("parsing took longer than its time budget"), no fault of the file.

The test holds the extractor's start until this process's interval timer shows the
message's budget stands still (paused), or until the parse is over (the old code: the
budget ran out first and the message failed). It never waits on the clock.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest
from mailatlas_clean import ParseJob, ParseLimits, ParserConfig, parse_many
from mailatlas_clean.attachments import _sandbox
from mailatlas_core import ParsedDocument

from tests.hostile.helpers import wait_for

from .files import csv_bytes, message_with

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM budgets: POSIX")


def test_a_slow_extractor_start_does_not_fail_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = tmp_path / "go"
    held_start = (  # the extractor's program, once `go` exists
        "import os, runpy, time\n"
        f"while not os.path.exists({str(go)!r}):\n"
        "    time.sleep(0.01)\n"
        "runpy.run_module('mailatlas_clean.pool._extractor', run_name='__main__')\n"
    )
    monkeypatch.setattr(_sandbox, "EXTRACTOR_ARGS", ["-P", "-c", held_start])
    _sandbox.EXTRACTOR.close()  # the next file starts a process with these arguments
    raw = message_with(
        [("table.csv", "text/csv", csv_bytes())], subject="slow", body="The body of slow."
    )
    parsed = threading.Event()

    def paused_or_over() -> bool:
        if parsed.is_set():  # the old code: the budget ran out first and the parse ended
            return True
        starting = _sandbox.EXTRACTOR._proc is not None
        return starting and signal.getitimer(signal.ITIMER_REAL)[0] == 0

    def release() -> None:
        try:
            wait_for(paused_or_over, "the extractor starting while no budget runs")
        finally:
            go.touch()

    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    try:
        # In this process (workers=0), under the message's SIGALRM budget.
        config = ParserConfig(limits=ParseLimits(time_budget_s=2))
        ((_job, doc),) = parse_many([ParseJob(0, raw)], config, workers=0)
    finally:
        parsed.set()
        releaser.join(timeout=130)
        _sandbox.EXTRACTOR.close()  # the next test starts a normal one
    assert isinstance(doc, ParsedDocument), doc  # was: parsing took longer than its budget
    assert doc.body_text == "The body of slow."
    (asset,) = doc.assets
    assert asset.text is not None and asset.text.status == "ok", asset.text
    assert "Widget, large" in (asset.text.text or "")
