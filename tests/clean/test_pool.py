"""parse_many: the same answers as inline parsing, in input order, on every core."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mailatlas_clean.parser._parse as parse_module
import mailatlas_clean.pool._pool as pool_module
import pytest
from mailatlas_clean import (
    ParseFailure,
    ParseJob,
    ParsePool,
    ParserConfig,
    parse_bytes,
    parse_many,
)
from mailatlas_core import ParsedDocument

from .helpers import count_pool_workers


def _messages(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        if i % 17 == 5:
            out.append(b"\x00\x01 not mail at all \xff" * 3)
        else:
            out.append(
                f"Message-ID: <pool-{i}@test>\r\nFrom: A <a@example.test>\r\n"
                f"Subject: number {i}\r\n\r\nbody {i}\r\n".encode()
            )
    return out


def _summary(results: list[tuple[ParseJob[int], ParsedDocument | ParseFailure | None]]) -> list:
    out = []
    for job, outcome in results:
        if isinstance(outcome, ParsedDocument):
            assert outcome.raw == job.raw
            out.append((job.tag, outcome.id, outcome.subject, outcome.body_text))
        elif isinstance(outcome, ParseFailure):
            out.append((job.tag, "failed", outcome.reason))
        else:
            out.append((job.tag, None))
    return out


@pytest.mark.parametrize("workers", [0, 2])
def test_results_in_input_order_with_passthrough(workers: int) -> None:
    raws = _messages(700)
    jobs = [ParseJob(i, raw, parse=(i % 10 != 3)) for i, raw in enumerate(raws)]
    results = list(parse_many(jobs, ParserConfig(), workers=workers, chunk_size=16))
    assert [job.tag for job, _ in results] == list(range(700))
    for job, outcome in results:
        if job.tag % 10 == 3:
            assert outcome is None
        elif job.tag % 17 == 5:
            assert isinstance(outcome, ParseFailure) and outcome.reason
        else:
            assert isinstance(outcome, ParsedDocument)
            assert outcome == parse_bytes(job.raw)


def test_pool_and_inline_agree() -> None:
    jobs = [ParseJob(i, raw) for i, raw in enumerate(_messages(400))]
    assert _summary(list(parse_many(jobs, workers=0))) == _summary(
        list(parse_many(jobs, workers=2, inline_below=10))
    )


def test_short_runs_start_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started for a short run")

    monkeypatch.setattr(pool_module, "WorkerProcess", boom)
    jobs = [ParseJob(i, raw) for i, raw in enumerate(_messages(20))]
    assert len(list(parse_many(jobs, workers=2))) == 20


def test_parse_pool_batches_inline_and_in_workers_agree() -> None:
    jobs = [ParseJob(i, raw, parse=(i != 4)) for i, raw in enumerate(_messages(60))]
    with (
        ParsePool(ParserConfig(), workers=0) as inline,
        ParsePool(ParserConfig(), workers=1) as pool,
    ):
        a = [inline.submit(jobs[i : i + 20]) for i in range(0, 60, 20)]
        b = [pool.submit(jobs[i : i + 20]) for i in range(0, 60, 20)]
        got_a = [item for batch in a for item in inline.results(batch)]
        got_b = [item for batch in b for item in pool.results(batch)]
    assert _summary(got_a) == _summary(got_b)
    assert got_b[4][1] is None


def _worker_pids() -> list[int]:
    """Pool workers: children of this process running ``mailatlas_clean.pool._main``."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and b"mailatlas_clean.pool._main" in cmdline:
            found.append(int(entry))
    return found


def _lazy(raws: list[bytes]) -> Iterator[ParseJob[int]]:
    for i, raw in enumerate(raws):
        yield ParseJob(i, raw)


@pytest.mark.slow
def test_a_killed_worker_loses_no_message(monkeypatch: pytest.MonkeyPatch) -> None:
    started = count_pool_workers(monkeypatch)
    raws = _messages(600)
    results = []
    gen = parse_many(_lazy(raws), workers=2, chunk_size=8, inline_below=10)
    for item in gen:
        results.append(item)
        if len(results) == 40:
            pids = _worker_pids()
            assert pids, "no parser worker found"
            os.kill(pids[0], signal.SIGKILL)  # what a segfault or the OOM killer looks like
    assert [job.tag for job, _ in results] == list(range(600))
    expected = _summary(list(parse_many(_lazy(raws), workers=0)))
    assert _summary(results) == expected
    assert len(started) >= 3  # the killed worker was replaced, not silently bypassed


def test_a_panic_in_the_parser_costs_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyo3 turns a Rust panic (nh3, html-to-markdown) into PanicException, a
    # BaseException: it must fail the message, not end the run.
    class PanicException(BaseException):
        pass

    def panic(raw: bytes, *args: object, **kwargs: object) -> ParsedDocument:
        if b"number 3\r\n" in raw:
            raise PanicException("called `Option::unwrap()` on a `None` value")
        return parse_bytes(raw)

    monkeypatch.setattr(parse_module, "parse_bytes", panic)
    jobs = [ParseJob(i, raw) for i, raw in enumerate(_messages(6))]
    outcomes = [outcome for _job, outcome in parse_many(jobs, workers=0)]
    assert isinstance(outcomes[3], ParseFailure)
    assert "PanicException" in outcomes[3].reason
    assert all(isinstance(outcomes[i], ParsedDocument) for i in (0, 1, 2, 4))

    def interrupted(raw: bytes, *args: object, **kwargs: object) -> ParsedDocument:
        raise KeyboardInterrupt

    monkeypatch.setattr(parse_module, "parse_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(parse_many(jobs, workers=0))


def test_the_caller_parses_while_waiting_but_never_large_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # While a worker starts up or is busy, the caller parses waiting chunks itself;
    # messages over HELP_MAX_BYTES always go to a worker (memory, crash isolation).
    monkeypatch.setattr(pool_module, "HELP_MAX_BYTES", 200)
    raws = [raw if i % 50 else raw + b"x" * 500 + b"\r\n" for i, raw in enumerate(_messages(1500))]
    parsed_here: list[int] = []
    real_parse_one = pool_module.parse_one

    def recording(job: ParseJob[int], config: ParserConfig, *limits: Any) -> object:
        parsed_here.append(len(job.raw))
        return real_parse_one(job, config, *limits)

    monkeypatch.setattr(pool_module, "parse_one", recording)
    results = list(parse_many(_lazy(raws), workers=1, chunk_size=8, inline_below=10))
    assert [job.tag for job, _ in results] == list(range(1500))
    monkeypatch.setattr(pool_module, "parse_one", real_parse_one)
    assert _summary(results) == _summary(list(parse_many(_lazy(raws), workers=0)))
    assert parsed_here, "the caller never helped while the worker was busy"
    assert len(parsed_here) < 1500, "the worker parsed nothing"
    assert max(parsed_here) <= 200


SCRIPT_WITHOUT_MAIN_GUARD = """
import sys
from pathlib import Path
from mailatlas_clean import ParseJob, parse_many

with open(sys.argv[1], "a") as marker:
    marker.write("ran\\n")
raws = [
    f"Message-ID: <s{i}@test>\\r\\nSubject: n {i}\\r\\n\\r\\nbody {i}\\r\\n".encode()
    for i in range(400)
]
done = list(parse_many((ParseJob(i, r) for i, r in enumerate(raws)), workers=1, inline_below=10))
print(len(done), sum(1 for _job, doc in done if getattr(doc, "subject", None)))
"""


def test_a_script_without_main_guard_is_not_run_again_in_workers(tmp_path: Path) -> None:
    # multiprocessing would import the caller's __main__ in every worker; ours must not.
    script, marker = tmp_path / "user_script.py", tmp_path / "ran.txt"
    script.write_text(SCRIPT_WITHOUT_MAIN_GUARD)
    out = subprocess.run(
        [sys.executable, str(script), str(marker)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["400", "400"]
    assert marker.read_text() == "ran\n"
    assert out.stderr == ""


def test_workers_do_not_inherit_mailatlas_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILATLAS_IMAP_PASSWORD", "hunter2-secret")
    with ParsePool(ParserConfig(), workers=1) as pool:
        batch = pool.submit([ParseJob(i, raw) for i, raw in enumerate(_messages(40))])
        pids = _worker_pids()
        assert pids, "no parser worker found"
        with open(f"/proc/{pids[0]}/environ", "rb") as f:
            environ = f.read()
        assert len(pool.results(batch)) == 40
    assert b"hunter2-secret" not in environ and b"MAILATLAS_" not in environ
    assert b"PATH=" in environ  # the rest of the environment is passed on


def test_workers_that_cannot_start_fall_back_to_this_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A broken install (the worker cannot even import) must not cost every message a
    # crash and a respawn: after MAX_START_FAILURES the pool parses in-process.
    import mailatlas_clean.pool._process as worker_module

    monkeypatch.setattr(worker_module, "WORKER_ARGS", ["-c", "raise SystemExit(3)"])
    started = count_pool_workers(monkeypatch)
    raws = _messages(600)
    with caplog.at_level("WARNING", logger="mailatlas_clean"):
        results = list(parse_many(_lazy(raws), workers=1, chunk_size=8, inline_below=10))
    assert _summary(results) == _summary(list(parse_many(_lazy(raws), workers=0)))
    assert len(started) == pool_module.MAX_START_FAILURES
    assert "cannot start" in caplog.text and "exit status 3" in caplog.text
