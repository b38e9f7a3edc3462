"""Peak memory of ingesting one message, per content type, as a multiple of its size.

Issue 11 asks for at most 4x for every content type. Measured (8 and 32 MB messages,
``python bench/memory.py``; figures and causes in docs/reliability.md) that is met by
plain ASCII text, base64 attachments, quoted-printable text, a text+HTML alternative and
tag-dense HTML (3.6x, since its pieces are bounded by tag count) and text-heavy HTML
(3.9x) and UTF-8 text (3.65x: SQLite is given a long body through a blob handle, a
piece at a time, not bound whole) and an attached message (3.05x: its stored copy is made
after its text is decoded) and many small parts (3.75x, alike or not: 4.1x before their
metadata entries shared key tables and their tree its header strs; 4.9x before the store
let each asset's bytes go once written). What remains is the parse: the raw bytes, the
body text and the whitespace normaliser's pieces and their join at once; for HTML also
the raw bytes and the sanitised HTML beside the text; for an attached message the raw
bytes, its text and its stored copy; for many parts the parsed document itself: the raw
bytes, each part's bytes, each part's extracted text and two metadata entries per part.

So each shape here asserts its own measured bound with a margin (``BOUND``), plus a
fixed allowance for the interpreter and SQLite (``BASE_MB``). Each message is ingested
in a fresh interpreter started from a small one (``ru_maxrss`` would carry pytest's own
peak across exec), and the figure is
that interpreter's VmHWM minus its VmHWM before the message was read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.dovecot import dovecot_available
from devkit.memshapes import SHAPES, measure, measure_sync, measure_workers, write_shape

MB = 1024 * 1024
SIZE = 8 * MB
BASE_MB = 12
# Measured at 8 MB on a loaded 2-core machine (peak/size; at the start of the last three
# sessions in brackets) and the bound asserted: the measured figure plus a margin.
BOUND = {
    "plain text": 3.8,  # 3.3 (4.1, 5.6, 8.4)
    "plain text, UTF-8": 4.1,  # 3.65 (4.1, 5.1, 6.9): the body streamed into SQLite
    "text-heavy HTML": 4.3,  # 3.9 (4.5, 5.7, 6.9): no strip copy of the text
    "tag-dense HTML": 4.1,  # 3.6 (6.7, 6.7, 7.0): pieces bounded by tag count too
    "alternative text+HTML": 4.0,  # 3.55 (4.1, 4.3, 6.3): within 4x + BASE_MB
    "base64 attachment": 3.2,  # 2.7 (3.8, 3.8, 4.7): leaves read by offset
    "quoted-printable": 3.7,  # 3.2 (3.7, 4.8, 7.1): within 4x + BASE_MB
    "many small parts": 4.2,  # 3.75 (4.1, 4.3, 4.9): key-shared metadata entries
    "many small parts, distinct": 4.2,  # 3.75 (4.1): no two parts alike
    # Siblings measured since (2026-11-29, the bench's cells of two runs): CSV files,
    # whose text is not their bytes (cells tab-separated), 3.77-4.03, 3.73 since the
    # store hands back the heap of the parts it wrote: the parse's own peak, the raw
    # bytes, each part's bytes and its text at once (see docs/reliability.md); HTML
    # files 3.31-3.33.
    "many small CSV parts": 4.15,
    "many small HTML parts": 3.75,
    "nested message/rfc822": 3.5,  # 3.05 (4.0, 4.2, 5.0): its copy made after its text
}


def test_every_shape_has_a_bound() -> None:
    assert set(BOUND) == set(SHAPES)


def _assert_peak_within(
    tmp_path: Path,
    shape: str,
    size: int,
    run: Callable[[Path, Path], dict[str, int]],
    factor: float,
    base_mb: int,
) -> None:
    """Store one ``shape`` message of about ``size`` bytes with ``run`` (``measure`` or
    ``measure_sync``): it is stored, and its peak is at most ``factor`` x its size plus
    ``base_mb``."""
    path = tmp_path / "m.eml"
    size = write_shape(shape, size, path)
    figures = run(path, tmp_path / "home")
    assert (figures["ingested"], figures["failed"]) == (1, 0), figures
    used = figures["peak"] - figures["base"]
    bound = factor * size + base_mb * MB
    assert used <= bound, f"{shape}: {used / MB:.0f} MB for {size / MB:.1f} MB ({used / size:.2f}x)"


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_peak_memory_per_content_type(tmp_path: Path, shape: str) -> None:
    _assert_peak_within(tmp_path, shape, SIZE, measure, BOUND[shape], BASE_MB)


# An IMAP sync of one 16 MB message from the real Dovecot, measured the same way
# (``bench/memory.py --sync``): the sync used to keep the raw message (its parse batch,
# its fetch queue) and the stored document into the commit, one message's size more than
# an ingest (plain text 5.3x, text-heavy HTML 5.55x at 8 MB); then 4.3x and 4.6x, UTF-8
# 5.3x: the literal's socket reads plus their join, and the CRLF body text (IMAP serves
# CRLF) held beside its LF copy. Now as an ingest: 3.3x, 3.85x, 3.65x. At 16 MB and with
# a smaller fixed allowance the bound tells the two apart. An attached message served
# with CRLF line ends was 7.0x (8.0x before the part trees were read by offset): its
# flattened copy was made LF by one ``re.sub``, every line an object of its own; now
# a piece at a time into one buffer, 4.05x, as the ingest of the LF message; 3.16x once
# that copy is made after the attached message's text is decoded (the bound plus
# SYNC_BASE_MB is 3.875x at 16 MB, which the old code exceeds). Many small
# parts: 4.74x at 16 MB, then 4.27x once the store let each asset's bytes go (its ingest:
# 4.22x), then 4.1x, and 3.74x since the metadata entries share their key tables (the
# bound plus SYNC_BASE_MB is 4.375x at 16 MB); distinct parts the same.
SYNC_SIZE = 16 * MB
SYNC_BASE_MB = 6
SYNC_BOUND = {
    "plain text": 3.7,
    "plain text, UTF-8": 4.1,
    "text-heavy HTML": 4.1,
    "nested message/rfc822": 3.5,
    "many small parts": 4.0,
    "many small parts, distinct": 4.0,
}


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.skipif(not dovecot_available(), reason="needs dovecot")
@pytest.mark.parametrize("shape", sorted(SYNC_BOUND))
def test_peak_memory_of_an_imap_sync_of_one_message(tmp_path: Path, shape: str) -> None:
    _assert_peak_within(tmp_path, shape, SYNC_SIZE, measure_sync, SYNC_BOUND[shape], SYNC_BASE_MB)


# The same message in a run long enough for parse workers (``bench/memory.py
# --workers``; every real mailbox is one): the storing process and the worker that
# parsed it, each above its figure after a warm-up run (``measure_workers``). Measured at
# 8 MB (storing / worker): plain text 3.16 / 2.99, UTF-8 3.14 / 3.82, text-heavy HTML
# 4.10 / 4.23, tag-dense HTML 3.13 / 3.35, alternative 2.66 / 3.58, base64 2.25 / 2.70,
# quoted-printable 2.51 / 3.32, many small parts 4.57 / 5.34, nested 2.49 / 3.05. Before
# the pool's protocol sent pickles in frames (and let a job's raw bytes go with its
# document): 5.07 / 3.91, 5.91 / 4.79, 9.13 / 7.18, 5.41 / 4.51, 5.06 / 3.94,
# 3.60 / 3.17, 3.89 / 3.36, 9.83 / 8.96, 4.19 / 3.96: each storing bound plus the
# allowance is below those. Since each worker lets a message's raw bytes go once it is
# parsed, before its reply is made (workers: UTF-8 3.74, text-heavy HTML 3.90, alternative
# 3.36, many small parts 4.35). With the parser's shared per-part objects and a large
# metadata's JSON left to the store (not sent beside its dicts), many small parts 4.27 /
# 3.85 (before it, the same run: 4.42 / 4.01).
# With no two parts alike (before that JSON change): 4.36 / 3.85 (a0e7537: 4.52 / 4.11).
# Since a large message waits on disk while its worker parses it (the pool alone holds
# it; its bytes come back with the answer), storing process at 8 MB, before -> after (the
# same run of ``bench/memory.py --sizes 8 --sync --workers --against c9ed7bb``): plain
# text 3.15 -> 3.16, UTF-8 3.25 -> 2.93, text-heavy HTML 4.13 -> 3.10, tag-dense HTML 3.33
# -> 2.26, alternative 2.62 -> 2.13, base64 2.21 -> 1.86, quoted-printable 2.43 -> 2.12,
# many small parts 4.30 -> 4.25, distinct 4.26 -> 4.04, nested 2.46 -> 2.13.
# Since a worker sends a large metadata as its JSON text alone and a text attachment's
# text as its file's bytes (``ParsedDocument.defer_metadata``, ``AssetText.held_as``):
# many small parts 4.37 -> 2.90, distinct 4.12 -> 2.74 (``--against a5a1cf0``, the same
# run); the old figures fail these bounds.
WORKERS_BASE_MB = 4
STORING_BOUND = {
    "plain text": 3.6,
    "plain text, UTF-8": 3.4,
    "text-heavy HTML": 3.5,  # plus the allowance: 4x, below the old 4.13
    "tag-dense HTML": 2.75,
    "alternative text+HTML": 2.6,
    "base64 attachment": 2.4,
    "quoted-printable": 2.6,
    "many small parts": 3.35,
    "many small parts, distinct": 3.2,
    "many small CSV parts": 4.35,  # 3.96 (4.30 before the metadata was sent as text)
    "many small HTML parts": 3.75,  # 3.34 (3.71)
    "nested message/rfc822": 2.7,
}
WORKER_BOUND = {
    "plain text": 3.45,
    "plain text, UTF-8": 4.2,
    "text-heavy HTML": 4.35,
    "tag-dense HTML": 3.8,
    "alternative text+HTML": 3.8,
    "base64 attachment": 3.15,
    "quoted-printable": 3.8,
    "many small parts": 4.3,
    "many small parts, distinct": 4.3,
    "many small CSV parts": 4.3,  # 3.78 (3.88)
    "many small HTML parts": 4.05,  # 3.63 (3.63)
    "nested message/rfc822": 3.5,
}


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(STORING_BOUND))
def test_peak_memory_of_a_message_parsed_in_a_worker(tmp_path: Path, shape: str) -> None:
    assert set(STORING_BOUND) == set(WORKER_BOUND) == set(SHAPES)
    path = tmp_path / "m.eml"
    size = write_shape(shape, SIZE, path)
    figures = measure_workers(path, tmp_path / "home")
    assert (figures["ingested"], figures["failed"]) == (1, 0), figures
    allowance = WORKERS_BASE_MB * MB
    for what, used, factor in (
        ("storing", figures["peak"] - figures["base"], STORING_BOUND[shape]),
        ("worker", figures["workers_peak"] - figures["workers_base"], WORKER_BOUND[shape]),
    ):
        assert used <= factor * size + allowance, (
            f"{shape}, {what} process: {used / MB:.0f} MB for {size / MB:.1f} MB"
            f" ({used / size:.2f}x)"
        )


# The same in a sync long enough for parse workers (``bench/memory.py --sync --workers``:
# the message in a folder of 1,100 small ones, after a warm-up sync of as many others).
# The storing process hands each message's raw bytes to the pool, which keeps a large
# one on disk while a worker parses it, and gets them back with its answer; nothing else
# holds them (a sync's last message of a batch did, through the store's write). Measured
# at 8 MB before -> after: text-heavy HTML 4.45 -> 3.33, many small parts 3.61 -> 3.2
# (the bench's cell, the same run); the bound plus the allowance is 4x, below the old
# text-heavy HTML figure. Many small parts since a worker sends their texts as their
# bytes and the large metadata as its text: 3.22 -> 1.98 (``--against a5a1cf0``), and
# its bound plus the allowance (2.9x) is below the old figure.
SYNC_WORKERS_FILLER = 1100
SYNC_WORKERS_BASE_MB = 4
SYNC_WORKERS_BOUND = {"text-heavy HTML": 3.5, "many small parts": 2.4}


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.skipif(not dovecot_available(), reason="needs dovecot")
@pytest.mark.parametrize("shape", sorted(SYNC_WORKERS_BOUND))
def test_peak_memory_of_a_message_synced_beside_parse_workers(tmp_path: Path, shape: str) -> None:
    def sync(path: Path, home: Path) -> dict[str, int]:
        return measure_sync(path, home, filler=SYNC_WORKERS_FILLER)

    _assert_peak_within(
        tmp_path, shape, SIZE, sync, SYNC_WORKERS_BOUND[shape], SYNC_WORKERS_BASE_MB
    )
