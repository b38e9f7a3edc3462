"""The extractor process dies with the thread that started it (``PR_SET_PDEATHSIG``
fires when the starting thread ends: an MCP server's worker thread, say). A file being
read by another thread at that moment is read again in a fresh process; it is not
marked as having crashed its reader.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from mailatlas_clean import ExtractLimits
from mailatlas_clean.attachments import _readers, register_reader
from mailatlas_clean.attachments._sandbox import Extractor, thread_ended
from mailatlas_core import AssetText

from tests.hostile.helpers import wait_for

from .readers import WAITING_ONCE

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only"
)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_file_read_when_the_starting_thread_ends_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_readers, "_registered", {})  # this test's readers only
    register_reader("text", WAITING_ONCE)
    extractor, limits = Extractor(), ExtractLimits()
    read_before = tmp_path / "read-before"
    read_before.touch()  # the starting thread's own file is read at once
    marker = tmp_path / "being-read"
    started, release = threading.Event(), threading.Event()
    results: dict[str, AssetText] = {}

    def extract(name: str, path: Path) -> None:
        results[name] = extractor.extract(b"WAIT " + bytes(path), "text", limits, 60, "text")

    def starter() -> None:  # starts the process, then ends when told to
        extract("first", read_before)
        started.set()
        release.wait()

    threads = [threading.Thread(target=starter)]
    threads[0].start()
    try:
        assert started.wait(120), "the extractor did not start"
        threads.append(threading.Thread(target=extract, args=("second", marker)))
        threads[1].start()
        wait_for(marker.exists, "the second file being read")
        release.set()  # the starting thread ends: the kernel kills its process
        threads[0].join()
        threads[1].join()
    finally:
        release.set()
        for thread in threads:
            thread.join()
        extractor.close()
    for name in ("first", "second"):
        assert (results[name].status, results[name].text, results[name].error) == (
            "ok",
            "read on the second try",
            None,
        ), name
    assert extractor.deaths == 0


def test_a_thread_is_seen_ended_once_its_os_thread_is_gone_while_another_joins_it() -> None:
    """The check the extractor makes on a death: once the kernel has ended the starting
    thread (and so killed its process), the thread reads as ended, even while another
    thread is inside ``join()`` on it. ``Thread.is_alive()`` fails this on 3.11 and 3.12
    in about one try in six (CI saw it as a file marked as having crashed its reader)."""

    def watch(ending: threading.Thread, seen: list[bool]) -> None:
        task = f"/proc/self/task/{ending.native_id}"
        while os.path.exists(task):  # until the kernel has ended the OS thread
            pass
        seen.append(thread_ended(ending))

    wrong = []
    for attempt in range(300):
        go = threading.Event()
        ending = threading.Thread(target=go.wait)
        ending.start()
        assert not thread_ended(ending)
        seen: list[bool] = []
        watcher = threading.Thread(target=watch, args=(ending, seen))
        watcher.start()
        go.set()
        ending.join()  # the joiner the race needs
        watcher.join()
        if not seen[0]:
            wrong.append(attempt)
    assert wrong == []
