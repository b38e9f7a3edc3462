"""CPU and memory bombs in ordinary-sized mail: every one is stored in bounded time.

Each message below is a few hundred KB, and each made one parsing step quadratic (or
worse) before it was fixed: a line of spaces before a character (whitespace and
HTML-to-text regexes), a ``To:`` of spaces (address regex), 200,000 nested ``<div>``
(html5ever, in the sanitiser and again in every HTML export), a ``charset=punycode``
body or encoded word (Python's punycode codec), unclosed ``<pre>`` and ``url(``.
Measured before the fixes: 150 KB of spaces took 169 s; these sizes would take from
minutes to hours. Each runs through the real CLI in a subprocess, which must finish
within ``TIME_LIMIT_S`` (generous: they take a few seconds) and stay within
``RSS_LIMIT`` of resident memory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import REPO, cli_command, cli_env

TIME_LIMIT_S = 120.0
MB = 1024 * 1024
RSS_LIMIT = 400 * MB  # the CLI and its parser workers, for a message of < 1 MB
N = 300_000

# Runs the command; reports the peak RSS of it and its children, and the wall time.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out, err = proc.communicate()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": proc.returncode, "out": out.decode(), "err": err.decode(),
                  "peak": peak, "seconds": time.monotonic() - start}))
"""


def measure(args: list[str], home: Path, timeout: float = TIME_LIMIT_S) -> dict[str, object]:
    """Run the CLI; its exit code, output, peak RSS (with children) and wall time.

    Past ``timeout`` the whole process group is killed and the test fails.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, *cli_command(*args)],
        stdout=subprocess.PIPE,
        env=cli_env(home),
        cwd=REPO,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"mailatlas {' '.join(args[:2])} did not finish within {timeout:.0f} s")
    return dict(json.loads(out))


HEAD = b"From: a@example.com\nSubject: bomb\nMessage-ID: <bomb@x>\n"
SAMPLES = {
    "spaces_then_a_character_in_text": HEAD + b"\n" + b" " * N + b"x\n",
    "spaces_then_a_tab_in_html": HEAD
    + b"Content-Type: text/html\n\n<p>x"
    + b" " * N
    + b"\tx</p>\n",
    "to_header_of_spaces": b"From: a@example.com\nTo: a" + b" " * N + b"x\nSubject: bomb\n\nbody\n",
    "200000_nested_divs": HEAD + b"Content-Type: text/html\n\n" + b"<div>" * 200_000 + b"x\n",
    "charset_punycode_body": HEAD
    + b"Content-Type: text/plain; charset=punycode\n\n"
    + b"a" * N
    + b"-"
    + b"b" * 1000
    + b"\n",
    "punycode_encoded_word": b"From: =?punycode?q?"
    + b"a" * N
    + b"-bc?= <a@example.com>\nSubject: bomb\n\nbody\n",
    "unclosed_pre_tags": HEAD + b"Content-Type: text/html\n\n" + b"<pre>" * 60_000 + b"\n",
    "unclosed_css_urls": HEAD
    + b'Content-Type: text/html\n\n<p style="background: '
    + b"url(" * 75_000
    + b'">x</p>\n',
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_bomb_is_stored_in_bounded_time_and_memory(tmp_path: Path, name: str) -> None:
    src = tmp_path / "bomb.eml"
    src.write_bytes(SAMPLES[name])
    started = time.monotonic()
    run = measure(["ingest", "eml", str(src)], tmp_path / "home")
    assert run["code"] == 0, run["err"]
    summary = json.loads(str(run["out"]))
    assert (summary["ingested_count"], summary["failed_count"]) == (1, 0)
    assert time.monotonic() - started < TIME_LIMIT_S
    assert int(str(run["peak"])) < RSS_LIMIT, f"peak RSS {int(str(run['peak'])) / MB:.0f} MB"


@pytest.mark.slow
def test_html_export_of_deeply_nested_html_is_fast(tmp_path: Path) -> None:
    # The export sanitises the stored HTML again; it was as slow as the ingest (89 s).
    src = tmp_path / "bomb.eml"
    src.write_bytes(SAMPLES["200000_nested_divs"])
    home = tmp_path / "home"
    run = measure(["ingest", "eml", str(src)], home)
    doc_id = json.loads(str(run["out"]))["document_refs"][0]["id"]
    # A store written before the fix holds the deep HTML: plant it, then export.
    stored = home / "workspace" / "html" / f"{doc_id}.html"
    stored.write_text("<div>" * 100_000 + "x", encoding="utf-8")
    export = measure(["export", doc_id, "--format", "html"], home)
    assert export["code"] == 0, export["err"]


def test_a_message_over_max_message_size_is_kept_unparsed(tmp_path: Path) -> None:
    big = HEAD + b"\n" + b"line of text\n" * 1000
    small = b"From: b@example.com\nSubject: small\nMessage-ID: <small@x>\n\nhello\n"
    (tmp_path / "a_big.eml").write_bytes(big)
    (tmp_path / "b_small.eml").write_bytes(small)
    home = tmp_path / "home"
    run = measure(["ingest", "eml", "--max-message-size", "4K", str(tmp_path)], home)
    assert run["code"] == 1, run["err"]
    summary = json.loads(str(run["out"]))
    assert (summary["ingested_count"], summary["failed_count"]) == (1, 1)
    reason = summary["failures"][0]["error"]
    assert "above the 4.0 KB limit (--max-message-size)" in reason, reason
    kept = list((home / "workspace" / "failures").iterdir())
    assert [p.read_bytes() for p in kept] == [big]


def _mbox_message(name: str) -> bytes:
    return (
        f"From {name}@example.com Mon Jan  1 00:00:00 2024\n"
        f"From: {name}@example.com\nSubject: {name}\nMessage-ID: <{name}@x>\n\nhello\n\n"
    ).encode()


ENDLESS = {  # 30 MB after an envelope and a header line: no newline, or no separator
    "no_newline": b"X-Junk: " + b"x" * (30 * MB) + b"\n\n",
    "long_lines": b"X-Junk: y\n\n" + (b"z" * 100_000 + b"\n") * 300 + b"\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ENDLESS))
def test_an_mbox_message_over_max_message_size_is_skipped_unbuffered(
    tmp_path: Path, name: str
) -> None:
    # The mbox reader held a whole message in memory (and a line without end grew
    # without bound): now it stops buffering at --max-message-size and skips ahead.
    good = _mbox_message("first") + _mbox_message("last")
    (tmp_path / "small.mbox").write_bytes(good)
    small = measure(["ingest", "mbox", str(tmp_path / "small.mbox")], tmp_path / "base")
    assert small["code"] == 0, small["err"]
    baseline = int(str(small["peak"]))

    hostile = b"From big@example.com Mon Jan  1 00:00:00 2024\n" + ENDLESS[name]
    mbox = tmp_path / "hostile.mbox"
    mbox.write_bytes(_mbox_message("first") + hostile + _mbox_message("last"))
    home = tmp_path / "home"
    run = measure(["ingest", "mbox", "--max-message-size", "1M", str(mbox)], home)
    peak = int(str(run["peak"]))
    assert peak < baseline + 20 * MB, f"peak RSS {peak / MB:.0f} MB, baseline {baseline / MB:.0f}"
    assert run["code"] == 1, run["err"]
    summary = json.loads(str(run["out"]))
    assert (summary["ingested_count"], summary["failed_count"]) == (2, 1)
    reason = summary["failures"][0]["error"]
    assert "above the 1.0 MB limit (--max-message-size); it was skipped" in reason, reason
    assert not (home / "workspace" / "failures").exists() or not any(
        (home / "workspace" / "failures").iterdir()
    )
