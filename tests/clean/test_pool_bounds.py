"""The parse pool's bounds: a time budget per message, a size limit, stopped workers.

The slow message here is legitimate, just large (parsing costs about a second per MB
on a loaded machine): with a budget far below that, it must be stopped and reported,
and every other message must come back parsed, in order, wherever the parse runs: in a
worker, in the main thread (SIGALRM), off the main thread or beside an application's
own SIGALRM handler (a worker then, even for a short run). The SIGSTOP test stops the
real worker while /proc shows it blocked writing a reply, then resumes it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import mailatlas_clean.parser._parse as parse_module
import mailatlas_clean.pool._pool as pool_module
import pytest
from mailatlas_clean import (
    ParseFailure,
    ParseJob,
    ParseLimits,
    ParsePool,
    ParserConfig,
    parse_many,
)
from mailatlas_core import ParsedDocument

T = TypeVar("T")
LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"


def _small(i: int) -> bytes:
    return f"Message-ID: <b-{i}@t>\nFrom: a@example.test\nSubject: n {i}\n\nbody {i}\n".encode()


def _big(i: int, megabytes: int) -> bytes:
    head = f"Message-ID: <big-{i}@t>\nFrom: a@example.test\nSubject: big {i}\n\n".encode()
    return head + LINE * (megabytes * 1024 * 1024 // len(LINE))


# Tag-dense HTML is the slowest shape to parse (8 MB: about 12 s of CPU, mostly inside
# the Rust HTML libraries); innocent messages get ample time on a loaded machine.
TIGHT = ParseLimits(time_budget_s=2.0, time_per_mb_s=0)


def _tag_dense(i: int, megabytes: int) -> bytes:
    head = f"Message-ID: <html-{i}@t>\nFrom: a@example.test\nSubject: html {i}\n".encode()
    return head + b"Content-Type: text/html\n\n" + b"<b><i>x</i></b>" * (megabytes * 65536)


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
    raws = [_tag_dense(i, 8) if i == 5 else _small(i) for i in range(40)]
    started = time.monotonic()
    results = list(parse_many(_jobs(raws), workers=1, chunk_size=8, inline_below=1, limits=TIGHT))
    _check_others(results, {5})
    assert time.monotonic() - started < 120  # safety net only; unbounded would not end


@pytest.mark.slow
def test_in_process_parsing_is_stopped_at_its_budget_too() -> None:
    raws = [_big(i, 12) if i == 2 else _small(i) for i in range(6)]
    limits = ParseLimits(time_budget_s=0.3, time_per_mb_s=0)  # main thread: no worker start
    results = list(parse_many(_jobs(raws), workers=0, limits=limits))
    _check_others(results, {2})


def test_a_message_over_the_size_limit_is_refused_unparsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    real = parse_module.parse_bytes

    def recording(raw: bytes, *args: object, **kwargs: object) -> ParsedDocument:
        parsed.append(len(raw))
        return real(raw, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parse_module, "parse_bytes", recording)
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


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_worker_killed_in_the_middle_of_a_reply_costs_a_retry_not_a_partial_object() -> None:
    # The reply (~2.5 MB of text) goes out in frames of 1 MB through a 1 MB pipe: while
    # this process does not read, the worker blocks in write() part-way through it. It
    # is killed exactly there. The frames that did arrive are no object (unpickling them
    # would fail, or make one from a part); the pool must see the worker die and parse
    # the message again in a fresh one.
    body = LINE * (2_500_000 // len(LINE))
    raws = [_small(0)[:-1] + body, _small(1)]
    with ParsePool(workers=1, chunk_size=2, limits=ParseLimits(time_budget_s=600)) as pool:
        batch = pool.submit(list(_jobs(raws)))
        worker = pool._procs[0]
        while worker.wants_write:  # the request goes in whole
            pool.poll()
        while "pipe_write" not in _wchan(worker.proc.pid):
            os.sched_yield()  # it is parsing (this process reads nothing meanwhile)
        os.kill(worker.proc.pid, signal.SIGKILL)
        results = pool.results(batch)
        assert pool._procs and pool._procs[0] is not worker  # the retry ran in a fresh one
    assert [job.tag for job, _ in results] == [0, 1]
    for job, outcome in results:
        assert isinstance(outcome, ParsedDocument), outcome
        assert outcome.subject == f"n {job.tag}" and outcome.raw == job.raw
    assert len(results[0][1].body_text or "") > 2_000_000


def _in_thread(fn: Callable[[], T]) -> T:
    """``fn()`` run in another thread (a library caller's worker thread)."""
    out: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(300)  # safety net only
    assert not thread.is_alive()
    if errors:
        raise errors[0]
    return out[0]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, None])
def test_the_budget_holds_off_the_main_thread(workers: int | None) -> None:
    # SIGALRM works only in the main thread: the old code parsed this message to the
    # end, however long it took. Now a worker parses it and is stopped at the budget.
    raws = [_tag_dense(i, 8) if i == 1 else _small(i) for i in range(4)]
    results = _in_thread(lambda: list(parse_many(_jobs(raws), workers=workers, limits=TIGHT)))
    _check_others(results, {1})


@pytest.mark.slow
def test_the_budget_holds_with_the_applications_own_sigalrm_handler() -> None:
    calls: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, _frame: calls.append(signum))
    try:
        raws = [_tag_dense(i, 8) if i == 2 else _small(i) for i in range(4)]
        results = list(parse_many(_jobs(raws), workers=0, limits=TIGHT))
        handler = signal.getsignal(signal.SIGALRM)
    finally:
        signal.signal(signal.SIGALRM, previous)
    _check_others(results, {2})
    assert calls == []  # the application's handler was never called by MailAtlas...
    assert handler is not previous and callable(handler)  # ...and stayed installed


@pytest.mark.slow
def test_a_worker_is_stopped_inside_a_native_call() -> None:
    # Tag-dense HTML: most of the parse is inside nh3 and html-to-markdown (Rust), which
    # SIGALRM cannot interrupt. Off the main thread, a worker parses it and is killed.
    raws = [_tag_dense(i, 8) if i == 1 else _small(i) for i in range(3)]
    started = time.monotonic()
    results = _in_thread(lambda: list(parse_many(_jobs(raws), workers=0, limits=TIGHT)))
    _check_others(results, {1})
    assert time.monotonic() - started < 120  # safety net only


@pytest.mark.slow
def test_in_process_native_calls_get_bounded_pieces_so_the_alarm_lands() -> None:
    # In the main thread the same message is parsed here: each Rust call gets one
    # bounded piece (_html_bounds), so the alarm is acted on between two pieces.
    raws = [_tag_dense(i, 8) if i == 1 else _small(i) for i in range(3)]
    results = list(parse_many(_jobs(raws), workers=0, limits=TIGHT))
    _check_others(results, {1})


def test_a_thread_of_an_in_process_pool_uses_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # ParsePool(workers=0) (IMAP sync's small runs) parses here on the main thread only.
    inline: list[int] = []
    real = pool_module.parse_one

    def recording(job: ParseJob[int], *args: Any) -> object:
        inline.append(job.tag)
        return real(job, *args)

    monkeypatch.setattr(pool_module, "parse_one", recording)
    with ParsePool(workers=0) as pool:
        here = pool.results(pool.submit(list(_jobs([_small(0)]))))
        there = _in_thread(lambda: pool.results(pool.submit([ParseJob(1, _small(1))])))
        assert pool.workers == 1
    assert inline == [0]
    assert isinstance(here[0][1], ParsedDocument) and isinstance(there[0][1], ParsedDocument)
    assert there[0][1].subject == "n 1"


@pytest.mark.slow
def test_ingest_from_a_thread_keeps_the_raw_of_the_stopped_message(tmp_path: Path) -> None:
    from mailatlas_cli import MailAtlas

    for i in range(3):
        (tmp_path / f"m{i}.eml").write_bytes(_tag_dense(i, 8) if i == 1 else _small(i))
    atlas = MailAtlas(tmp_path / "s.db", tmp_path / "ws", ParserConfig(limits=TIGHT))
    result = _in_thread(lambda: atlas.ingest_eml(sorted(tmp_path.glob("m*.eml"))).to_dict())
    assert (result["ingested_count"], result["failed_count"]) == (2, 1)
    assert "time budget" in result["failures"][0]["error"]
    kept = list((tmp_path / "ws" / "failures").iterdir())
    assert [p.read_bytes() for p in kept] == [_tag_dense(1, 8)]


@pytest.mark.parametrize(("count", "expect_short"), [(3, True), (40, False)])
def test_the_first_jobs_are_read_ahead_by_bytes_not_only_by_count(
    monkeypatch: pytest.MonkeyPatch, count: int, expect_short: bool
) -> None:
    # Whether a run is short (parsed in this process) is decided on its first jobs; the
    # decision holds at most AHEAD_BYTES of mail (plus one job), not 256 large messages.
    monkeypatch.setattr(pool_module, "AHEAD_BYTES", 3 * 1024 * 1024)
    pulled: list[int] = []

    def jobs() -> Iterator[ParseJob[int]]:
        for i in range(count):
            pulled.append(i)
            yield ParseJob(i, _big(i, 1))

    head, short = pool_module._head(jobs(), 256)
    assert short is expect_short
    assert len(head) == len(pulled) == min(count, 4)  # 3 MB reached at the 3rd, one more
    assert [job.tag for job in head] == list(range(len(head)))


def test_a_long_run_of_large_messages_is_read_ahead_within_the_byte_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1 MB messages, 2 MB ahead at most, chunks of 1 MB: not a whole 32-message chunk.
    monkeypatch.setattr(pool_module, "AHEAD_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(pool_module, "CHUNK_BYTES", 1024 * 1024)
    pulled: list[int] = []

    def jobs() -> Iterator[ParseJob[int]]:
        for i in range(12):
            pulled.append(i)
            yield ParseJob(i, _big(i, 1))

    results = []
    for job, outcome in parse_many(jobs(), workers=1):
        if not results:
            assert len(pulled) <= 6, f"{len(pulled)} messages read ahead of the first result"
        results.append((job, outcome))
    assert [job.tag for job, _ in results] == list(range(12))
    for job, outcome in results:
        assert isinstance(outcome, ParsedDocument), outcome
        assert outcome.raw == job.raw and outcome.subject == f"big {job.tag}"
