"""A large message waits on disk, not in memory, while a worker parses it.

Once a request is in a worker's pipe, each of its messages of ``SPILL_BYTES`` or more
is written to an unnamed temporary file and the pool holds no bytes of it: its document
then arrives without the raw message beside it (1x its size less at that peak; see
``tests/hostile/test_memory_ratio.py`` for the whole run). The bytes come back with the
answer, and when the message must be sent again (its worker died). A file that cannot
be written leaves the message in memory.

The worker is held mid-message by a test reader (``readers.GATED``, blocked on a file
lock the test holds) until the test has looked, so nothing here depends on timing.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from mailatlas_clean import ParseJob, ParseLimits, ParsePool, ParserConfig
from mailatlas_clean.attachments import _readers, register_reader
from mailatlas_clean.pool._pool import SPILL_BYTES, _Chunk
from mailatlas_core import ParsedDocument, StoreError

from tests.attachments.files import message_with
from tests.attachments.readers import GATED
from tests.hostile.helpers import wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")

LIMITS = ParseLimits(time_budget_s=600)  # the worker waits for the test, not for time


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_readers, "_registered", {})  # this test's readers only
    register_reader("text", GATED)


def _large(gate: Path) -> bytes:
    """A message over SPILL_BYTES whose attachment holds its worker while ``gate`` is
    locked."""
    body = "\n".join(f"line {i} of a large message" for i in range(60_000))
    raw = message_with([("gate.txt", "text/plain", b"GATE " + bytes(gate))], body=body)
    assert len(raw) >= SPILL_BYTES
    return raw


def _texts(doc: object) -> list[tuple[str, str | None, str | None]]:
    assert isinstance(doc, ParsedDocument), doc
    return [(a.text.status, a.text.text, a.text.error) for a in doc.assets if a.text]


class _Run:
    """A large message (held by its attachment while the test locks ``gate``) and a small
    one, submitted to a pool of one worker; a context manager (the pool's)."""

    def __init__(self, tmp_path: Path) -> None:
        self.gate = tmp_path / "gate"
        self.lock = self.gate.open("wb")
        fcntl.flock(self.lock, fcntl.LOCK_EX)  # the reader waits until it is released
        self.pool = ParsePool(ParserConfig(), workers=1, limits=LIMITS)
        self.raw, self.small = _large(self.gate), message_with([], subject="small")
        self.batch = self.pool.submit([ParseJob(0, self.raw), ParseJob(1, self.small)])
        self.chunk: _Chunk = self.batch._chunks[0]

    def __enter__(self) -> _Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.close()
        self.pool.close()

    def wait(self, condition: Callable[[_Chunk], bool], what: str) -> None:
        def polled() -> bool:
            self.pool.poll()  # moves the request and the replies
            return condition(self.chunk)

        wait_for(polled, what)

    def results(self) -> list[tuple[ParseJob[int], object]]:
        self.lock.close()  # opens the gate
        return list(self.pool.results(self.batch))


def _spilled(chunk: _Chunk) -> bool:
    """The request is in the worker's pipe (its large message on disk)."""
    return bool(chunk.spilled)


def _reading(chunk: _Chunk) -> bool:
    """Its worker has the whole request and is reading the large message's file."""
    worker = chunk.worker
    return worker is not None and worker.reading == 0 and not worker.wants_write


def test_a_large_message_waits_on_disk_while_its_worker_parses_it(
    tmp_path: Path, gated: None
) -> None:
    with _Run(tmp_path) as run:
        run.wait(_spilled, "the request in the worker's pipe")
        # The pool holds no bytes of the large message (the batch holds no job at all);
        # the small one stays in memory.
        assert run.batch._jobs == [None, None]
        assert [job.raw for job in run.chunk.jobs] == [b"", run.small]
        file = run.chunk.spilled[0]
        assert os.readlink(f"/proc/self/fd/{file.fileno()}").endswith("(deleted)")
        assert os.pread(file.fileno(), len(run.raw) + 1, 0) == run.raw
        (job, doc), (small_job, small_doc) = run.results()
    assert job.raw == run.raw and isinstance(doc, ParsedDocument) and doc.raw == run.raw
    assert _texts(doc) == [("ok", "opened", None)]
    assert small_job.raw == run.small and isinstance(small_doc, ParsedDocument)
    assert run.chunk.spilled == {} and file.closed


def test_a_spilled_message_is_sent_again_when_its_worker_dies(tmp_path: Path, gated: None) -> None:
    with _Run(tmp_path) as run:
        run.wait(lambda chunk: _reading(chunk) and _spilled(chunk), "the file being read")
        assert run.chunk.worker is not None
        run.chunk.worker.proc.kill()  # as the OOM killer would
        (job, doc), (_small_job, small_doc) = run.results()
    # Read back from its file and parsed again in a fresh worker, without the file
    # whose reading killed the first one.
    assert job.raw == run.raw and isinstance(doc, ParsedDocument) and doc.raw == run.raw
    assert _texts(doc) == [("failed", None, "the text reader crashed its process (SIGKILL)")]
    assert isinstance(small_doc, ParsedDocument) and small_doc.raw == run.small


def test_a_message_that_cannot_be_written_to_disk_stays_in_memory(
    tmp_path: Path, gated: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such directory"))
    with _Run(tmp_path) as run:
        run.wait(_reading, "the file being read")
        assert run.chunk.spilled == {} and run.chunk.jobs[0].raw == run.raw  # refused
        (job, doc), _ = run.results()
    assert job.raw == run.raw and isinstance(doc, ParsedDocument) and doc.raw == run.raw
    assert _texts(doc) == [("ok", "opened", None)]


class _FailingDisk:
    """A spilled file whose disk fails under it: every read raises EIO."""

    def __init__(self, file: object) -> None:
        self.file = file

    def seek(self, offset: int) -> int:
        return 0

    def read(self) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_a_message_that_cannot_be_read_back_stops_the_run_with_one_error(
    tmp_path: Path, gated: None
) -> None:
    with _Run(tmp_path) as run:
        run.wait(_spilled, "the request in the worker's pipe")
        failing = _FailingDisk(run.chunk.spilled[0])
        run.chunk.spilled[0] = failing  # type: ignore[assignment]
        with pytest.raises(StoreError) as raised:
            run.results()
        assert str(raised.value) == (
            "cannot read back a message kept in a temporary file while it was parsed:"
            " Input/output error"
        )
        assert run.chunk.spilled == {0: failing}  # kept: nothing of the message let go
