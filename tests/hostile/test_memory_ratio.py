"""Peak memory of ingesting one message, per content type, as a multiple of its size.

Issue 11 asks for at most 4x for every content type. Measured (8 and 32 MB messages,
``python bench/memory.py``; figures and causes in docs/reliability.md) that is met by
base64 attachments and (at 32 MB) a text+HTML alternative; text and HTML bodies cost
5-7x. The remaining copies are the
stdlib parser's (the whole body as one ``str``, its lines while it reads them, twice the
size for non-ASCII text held as surrogates) and SQLite's (the bound text, its pages,
and the full-text index built at commit), next to the raw bytes the store writes last.

So each shape here asserts its own measured bound with a margin (``BOUND``), plus a
fixed allowance for the interpreter and SQLite (``BASE_MB``); the 4x target stays open
for every shape but base64 attachments. Each message is ingested in a fresh interpreter started from
a small one (``ru_maxrss`` would carry pytest's own peak across exec), and the figure is
that interpreter's VmHWM minus its VmHWM before the message was read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.memshapes import SHAPES, measure, write_shape

MB = 1024 * 1024
SIZE = 8 * MB
BASE_MB = 12
# Measured at 8 MB on a loaded 2-core machine (peak/size; before this session's changes
# in brackets) and the bound asserted: the measured figure plus a margin.
BOUND = {
    "plain text": 6.1,  # 5.6 (8.4)
    "plain text, UTF-8": 7.4,  # 6.9 (10.4)
    "text-heavy HTML": 7.4,  # 6.9 (7.8)
    "tag-dense HTML": 7.5,  # 7.0 (9.7)
    "alternative text+HTML": 4.8,  # 4.3 (6.3)
    "base64 attachment": 4.0,  # 4.7 (4.7), 3.8 at 32 MB: within 4x + BASE_MB
    "quoted-printable": 5.3,  # 4.8 (7.1)
    "many small parts": 6.6,  # 6.1 (6.5)
    "nested message/rfc822": 6.7,  # 6.2 (6.8)
}


def test_every_shape_has_a_bound() -> None:
    assert set(BOUND) == set(SHAPES)


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_peak_memory_per_content_type(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "m.eml"
    size = write_shape(shape, SIZE, path)
    figures = measure(path, tmp_path / "home")
    assert (figures["ingested"], figures["failed"]) == (1, 0), figures
    used = figures["peak"] - figures["base"]
    bound = BOUND[shape] * size + BASE_MB * MB
    assert used <= bound, f"{shape}: {used / MB:.0f} MB for {size / MB:.1f} MB ({used / size:.2f}x)"
