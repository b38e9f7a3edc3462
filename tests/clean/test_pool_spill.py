"""A large message waits on disk, not in memory, while a worker parses it.

Once a request is in a worker's pipe, each of its messages of ``SPILL_BYTES`` or more
is written to an unnamed temporary file and the pool holds no bytes of it: its document
then arrives without the raw message beside it (1x its size less at that peak; see
``tests/hostile/test_memory_ratio.py`` for the whole run). The bytes come back with the
answer, and when the message must be sent again (its worker died). A file that cannot
be written leaves the message in memory.

The worker is held mid-message by a test reader (``readers.GATED``) until the test has
looked, so nothing here depends on timing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from mailatlas_clean import ParseJob, ParseLimits, ParsePool, ParserConfig
from mailatlas_clean.attachments import _readers, register_reader
from mailatlas_clean.pool._pool import SPILL_BYTES, ParseBatch
from mailatlas_core import ParsedDocument

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
    """A message over SPILL_BYTES whose attachment holds its worker until ``gate`` exists."""
    body = "\n".join(f"line {i} of a large message" for i in range(60_000))
    raw = message_with([("gate.txt", "text/plain", b"GATE " + bytes(gate))], body=body)
    assert len(raw) >= SPILL_BYTES
    return raw


def _texts(doc: object) -> list[tuple[str, str | None, str | None]]:
    assert isinstance(doc, ParsedDocument), doc
    return [(a.text.status, a.text.text, a.text.error) for a in doc.assets if a.text]


def _submitted(pool: ParsePool, raw: bytes, small: bytes) -> ParseBatch[int]:
    return pool.submit([ParseJob(0, raw), ParseJob(1, small)])


def test_a_large_message_waits_on_disk_while_its_worker_parses_it(
    tmp_path: Path, gated: None
) -> None:
    gate = tmp_path / "gate"
    raw, small = _large(gate), message_with([], subject="small")
    with ParsePool(ParserConfig(), workers=1, limits=LIMITS) as pool:
        batch = _submitted(pool, raw, small)
        chunk = batch._chunks[0]

        def spilled() -> bool:
            pool.poll()
            return bool(chunk.spilled)

        wait_for(spilled, "the request in the worker's pipe")
        # The pool holds no bytes of the large message (the batch holds no job at all);
        # the small one stays in memory.
        assert batch._jobs == [None, None]
        assert [job.raw for job in chunk.jobs] == [b"", small]
        file = chunk.spilled[0]
        assert os.readlink(f"/proc/self/fd/{file.fileno()}").endswith("(deleted)")
        assert os.pread(file.fileno(), len(raw) + 1, 0) == raw
        gate.touch()
        pairs = pool.results(batch)
    (job, doc), (small_job, small_doc) = pairs
    assert job.raw == raw and isinstance(doc, ParsedDocument) and doc.raw == raw
    assert _texts(doc) == [("ok", "opened", None)]
    assert small_job.raw == small and isinstance(small_doc, ParsedDocument)
    assert chunk.spilled == {} and file.closed


def test_a_spilled_message_is_sent_again_when_its_worker_dies(tmp_path: Path, gated: None) -> None:
    gate = tmp_path / "gate"
    raw, small = _large(gate), message_with([], subject="small")
    with ParsePool(ParserConfig(), workers=1, limits=LIMITS) as pool:
        batch = _submitted(pool, raw, small)
        chunk = batch._chunks[0]

        def reading() -> bool:
            pool.poll()
            return bool(chunk.spilled) and chunk.worker is not None and chunk.worker.reading == 0

        wait_for(reading, "the worker reading the large message's attachment")
        assert chunk.worker is not None
        chunk.worker.proc.kill()  # as the OOM killer would
        gate.touch()
        pairs = pool.results(batch)
    (job, doc), (_small_job, small_doc) = pairs
    # Read back from its file and parsed again in a fresh worker, without the file
    # whose reading killed the first one.
    assert job.raw == raw and isinstance(doc, ParsedDocument) and doc.raw == raw
    assert _texts(doc) == [("failed", None, "the text reader crashed its process (SIGKILL)")]
    assert isinstance(small_doc, ParsedDocument) and small_doc.raw == small


def test_a_message_that_cannot_be_written_to_disk_stays_in_memory(
    tmp_path: Path, gated: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such directory"))
    gate = tmp_path / "gate"
    raw, small = _large(gate), message_with([], subject="small")
    with ParsePool(ParserConfig(), workers=1, limits=LIMITS) as pool:
        batch = _submitted(pool, raw, small)
        chunk = batch._chunks[0]
        worker = None

        def reading() -> bool:
            nonlocal worker
            pool.poll()
            worker = chunk.worker
            return worker is not None and worker.reading == 0 and not worker.wants_write

        wait_for(reading, "the worker reading the large message's attachment")
        assert chunk.spilled == {} and chunk.jobs[0].raw == raw  # the write was refused
        gate.touch()
        pairs = pool.results(batch)
    (job, doc), _ = pairs
    assert job.raw == raw and isinstance(doc, ParsedDocument) and doc.raw == raw
    assert _texts(doc) == [("ok", "opened", None)]
