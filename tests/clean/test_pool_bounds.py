"""The parse pool's bounds: a time budget per message, a size limit, stopped workers.

The slow message here is legitimate, just large (parsing costs about a second per MB
on a loaded machine): with a budget far below that, it must be stopped and reported,
and every other message must come back parsed, in order. The SIGSTOP test stops the
real worker while /proc shows it blocked writing a reply, then resumes it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import mailatlas_clean._pool as pool_module
import pytest
from mailatlas_clean import ParseFailure, ParseJob, ParseLimits, ParsePool, parse_many
from mailatlas_core import ParsedDocument

LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"


def _small(i: int) -> bytes:
    return f"Message-ID: <b-{i}@t>\nFrom: a@example.test\nSubject: n {i}\n\nbody {i}\n".encode()


def _big(i: int, megabytes: int) -> bytes:
    head = f"Message-ID: <big-{i}@t>\nFrom: a@example.test\nSubject: big {i}\n\n".encode()
    return head + LINE * (megabytes * 1024 * 1024 // len(LINE))


def _jobs(raws: list[bytes]) -> Iterator[ParseJob[int]]:
    for i, raw in enumerate(raws):
        yield ParseJob(i, raw)


def _check_others(results: list[tuple[ParseJob[int], object]], slow: set[int]) -> None:
    assert [job.tag for job, _ in results] == list(range(len(results)))
    for job, outcome in results:
        if job.tag in slow:
            assert isinstance(outcome, ParseFailure), outcome
            assert "time budget" in outcome.reason
        else:
            assert isinstance(outcome, ParsedDocument), outcome
            assert outcome.raw == job.raw
            assert outcome.subject == f"n {job.tag}"


@pytest.mark.slow
def test_a_worker_over_its_budget_is_killed_and_the_run_goes_on() -> None:
    raws = [_big(i, 12) if i == 5 else _small(i) for i in range(40)]
    limits = ParseLimits(time_budget_s=0.3, time_per_mb_s=0)
    started = time.monotonic()
    results = list(parse_many(_jobs(raws), workers=1, chunk_size=8, inline_below=1, limits=limits))
    _check_others(results, {5})
    assert time.monotonic() - started < 120  # safety net only; unbounded would not end


@pytest.mark.slow
def test_in_process_parsing_is_stopped_at_its_budget_too() -> None:
    raws = [_big(i, 12) if i == 2 else _small(i) for i in range(6)]
    limits = ParseLimits(time_budget_s=0.3, time_per_mb_s=0)
    results = list(parse_many(_jobs(raws), workers=0, limits=limits))
    _check_others(results, {2})


def test_a_message_over_the_size_limit_is_refused_unparsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    real = pool_module.parse_bytes

    def recording(raw: bytes, *args: object, **kwargs: object) -> ParsedDocument:
        parsed.append(len(raw))
        return real(raw, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pool_module, "parse_bytes", recording)
    raws = [_small(0), _big(1, 1), _small(2)]
    limits = ParseLimits(max_message_bytes=100_000)
    for workers in (0, 1):
        results = list(parse_many(_jobs(raws), workers=workers, inline_below=1, limits=limits))
        outcome = results[1][1]
        assert isinstance(outcome, ParseFailure)
        assert "above the" in outcome.reason and "raw bytes are kept" in outcome.reason
        assert isinstance(results[0][1], ParsedDocument)
        assert isinstance(results[2][1], ParsedDocument)
    assert all(size < 100_000 for size in parsed)


def _wait_for_state(pid: int, state: bytes) -> None:
    """Until /proc says the process is in ``state`` (no clock: polling /proc is the progress)."""
    for _ in range(1_000_000):
        with open(f"/proc/{pid}/stat", "rb") as fh:
            if fh.read().rsplit(b")", 1)[1].split()[0] == state:
                return
        os.sched_yield()
    raise AssertionError(f"process {pid} never reached state {state!r}")


def _wchan(pid: int) -> str:
    """The kernel function ``pid`` sleeps in (``anon_pipe_write``, ``pipe_read``, ...)."""
    with open(f"/proc/{pid}/wchan") as fh:
        return fh.read()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_worker_stopped_while_blocked_writing_a_reply_loses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each reply (~2.5 MB of text) is larger than the 1 MB pipe, so while this process
    # does not read, the worker blocks in write() in the middle of a reply. It is
    # stopped and resumed exactly there, again and again (Ctrl-Z then fg, or a sampling
    # profiler attaching): the stop ends that write() early with a partial count, and
    # the worker must write the rest. Python's buffered stdout lost it (the caller then
    # took text for a frame header and waited for ever, or failed to unpickle).
    # PYTHONUNBUFFERED (common in containers, set on this project's machines) makes
    # sys.stdout.buffer the raw file, whose write() returns that partial count: the
    # old worker ignored it. The worker inherits this environment.
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    body = LINE * (2_500_000 // len(LINE))
    raws = [_small(i)[:-1] + body for i in range(10)]
    with ParsePool(workers=1, chunk_size=1, limits=ParseLimits(time_budget_s=600)) as pool:
        batch = pool.submit(list(_jobs(raws)))
        chunks = batch._chunks
        stops = 0
        while any(chunk.done is None for chunk in chunks):
            worker = pool._procs[0]
            where = _wchan(worker.proc.pid)
            if "pipe_write" in where:
                os.kill(worker.proc.pid, signal.SIGSTOP)
                _wait_for_state(worker.proc.pid, b"T")  # stopped (a SIGCONT sooner cancels)
                os.kill(worker.proc.pid, signal.SIGCONT)
                stops += 1
                pool.poll()  # read what has arrived: the worker goes on with its reply
            elif "pipe_read" in where:  # it waits for the rest of its work
                sent_all = not worker.wants_write
                pool.poll()
                # With every request in the pipe and read, every reply has been written:
                # after this read none may be missing.
                missing = sum(chunk.done is None for chunk in chunks)
                assert not (sent_all and missing), f"{missing} replies lost ({stops} stops)"
            else:
                os.sched_yield()  # it is parsing
        results = pool.results(batch)
    assert stops >= 5  # about one per reply
    assert [job.tag for job, _ in results] == list(range(10))
    for job, outcome in results:
        assert isinstance(outcome, ParsedDocument), outcome
        assert outcome.subject == f"n {job.tag}" and outcome.raw == job.raw
        assert len(outcome.body_text or "") > 2_000_000
