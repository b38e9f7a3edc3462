"""Readers that misbehave for real, registered by tests with ``register_reader``.

Attachments are read in other processes (the parser workers, the extractor process),
so a test cannot monkeypatch a reader: it registers one of these by name, and every
process started after that imports it. Production code never names them.

* :data:`CRASHING` reads a plain-text file as text, unless its bytes start with
  ``CRASH``: then it reads memory at address 0 through ``ctypes``, a genuine SIGSEGV in
  native code that no ``except`` clause can catch.
* :data:`HANGING` does the same with ``HANG``, but hangs instead: SIGALRM blocked (as
  native code that never returns to Python), so only a kill stops it.
* :data:`WAITING_ONCE` reads ``WAIT <path>``: the first time it creates ``path`` and
  waits until its process is killed; once ``path`` exists it reads the file.
* :data:`ENDLESS` never returns; :data:`STUCK_AFTER_ONE_ROW` reads one row first.
* :data:`GATED` reads ``GATE <path>``: it waits for a shared lock on the file ``path``
  (the test holds it exclusively until it opens the gate), then reads ``opened``;
  anything else is read as text.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import signal
import threading

from mailatlas_clean.attachments._sink import TextSink

CRASHING = "tests.attachments.readers:crashing"
HANGING = "tests.attachments.readers:hanging"
ENDLESS = "tests.attachments.readers:endless"
STUCK_AFTER_ONE_ROW = "tests.attachments.readers:stuck_after_one_row"
WAITING_ONCE = "tests.attachments.readers:waiting_once"
GATED = "tests.attachments.readers:gated"


def crashing(data: bytes, sink: TextSink) -> None:
    if data.startswith(b"CRASH"):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file for this one
        ctypes.string_at(0)  # SIGSEGV
    sink.add(data.decode("utf-8", "replace"))


def hanging(data: bytes, sink: TextSink) -> None:
    if data.startswith(b"HANG"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # the budget can't land
        endless(data, sink)
    sink.add(data.decode("utf-8", "replace"))


def endless(data: bytes, sink: TextSink) -> None:
    while True:  # a reader stuck on a hostile file
        pass


def stuck_after_one_row(data: bytes, sink: TextSink) -> None:
    sink.add("row 1")  # read, then stuck on the rest
    endless(data, sink)


def waiting_once(data: bytes, sink: TextSink) -> None:
    path = data.removeprefix(b"WAIT ")
    if not os.path.exists(path):
        open(path, "xb").close()  # the test sees this file is being read
        threading.Event().wait()  # until this process is killed
    sink.add("read on the second try")


def gated(data: bytes, sink: TextSink) -> None:
    if not data.startswith(b"GATE "):
        sink.add(data.decode("utf-8", "replace"))
        return
    with open(data.removeprefix(b"GATE "), "rb") as gate:
        fcntl.flock(gate, fcntl.LOCK_SH)  # blocks while the test holds the gate
    sink.add("opened")
