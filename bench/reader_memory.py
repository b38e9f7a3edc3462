"""Benchmark: peak memory and time of the text readers of CSV, HTML and plain-text files.

    hatch run bench:python bench/reader_memory.py                    # 2, 8 and 32 MB
    hatch run bench:python bench/reader_memory.py --against main     # also main's code

Each file is generated (short CSV rows, paragraphs of HTML, short lines of text) and read
by its reader (``mailatlas_clean.attachments._text``: what an extractor process runs for
it) with the default text limit (``ExtractLimits.max_text_chars``), in a fresh
interpreter, one at a time. The figure is that interpreter's VmHWM above its VmHWM once
the file was in memory (its high-water mark reset first), as a multiple of the file's
size, and the seconds the read took. ``--against REF`` reads each file with git REF's
packages too, right after this tree's.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench._common import ratio_main  # noqa: E402
from devkit.memshapes import HWM_SOURCE  # noqa: E402

# The measured interpreter: makes the file, resets its high-water mark, reads the file.
_CHILD = (
    """
import ctypes, gc, json, sys, time
from mailatlas_clean import ExtractLimits
from mailatlas_clean.attachments import _text
from mailatlas_clean.attachments._sink import TextSink
import mailatlas_clean.parser._html, mailatlas_clean.parser._html_text  # imported first
"""
    + HWM_SOURCE
    + """
kind, size = sys.argv[1], int(sys.argv[2])
if kind == "csv":
    row, read = b"north,%d,1.5,done\\n", _text.read_csv
elif kind == "html":
    row = b"<p>Lorem <b>ipsum</b> dolor %d <a href='https://example.test/x'>link</a>.</p>\\n"
    read = _text.read_html
else:
    row, read = b"line %d of a plain text file\\n", _text.read_plain
data = b"".join(row % i for i in range(size // len(row % 0)))
gc.collect()
ctypes.CDLL(None).malloc_trim(0)
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = hwm()
sink = TextSink(ExtractLimits().max_text_chars)
start = time.perf_counter()
read(data, sink)
text = sink.text()
seconds = time.perf_counter() - start
print(json.dumps({"ratio": (hwm() - base) / len(data), "seconds": seconds, "chars": len(text)}))
"""
)

KINDS = ("csv", "html", "text")


def main() -> None:
    ratio_main(__doc__, "reader", _CHILD, KINDS, "2,8,32")


if __name__ == "__main__":
    main()
