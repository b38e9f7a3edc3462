"""Benchmark: peak memory and time of parsing a message made of many small structures.

    hatch run bench:python bench/bomb_memory.py                  # 8 and 32 MB
    hatch run bench:python bench/bomb_memory.py --against main   # also main's code

Six kinds of message: four of header fields, generated as
``tests/clean/test_header_budget.py`` makes them (``X-`` fields, a ``Received`` chain,
a ``To:`` of addresses, a ``References`` line of ids; From, Subject and Message-ID
last), and two of parts, as ``tests/clean/test_part_budget.py`` makes them (empty parts
of a multipart; the blocks of a delivery report). Each is parsed with ``parse_bytes`` in
a fresh interpreter (a refusal, ``ParseError``, counts as done). The figure is that
interpreter's VmHWM above its VmHWM once the message was in memory (its heap trimmed and
its high-water mark reset first), as a multiple of the message's size, and the parse's
seconds. ``--against REF`` parses each with git REF's packages too, right after this
tree's.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench._common import ratio_main  # noqa: E402
from devkit.memshapes import HWM_SOURCE  # noqa: E402

KINDS = ("fields", "received", "to", "references", "empty parts", "report blocks")

# The measured interpreter. The message is made here (the same code as the test's
# ``_bomb``, which another REF's tree may not have).
_CHILD = (
    """
import ctypes, json, sys, time
from mailatlas_clean import ParseError, parse_bytes
"""
    + HWM_SOURCE
    + """
kind, size = sys.argv[1], int(sys.argv[2])
tail = b"From: Ann <a@example.com>\\nSubject: the subject\\nMessage-ID: <end@example.test>\\n"
if kind == "fields":
    head = b"".join(b"X-Custom-%d: value %d\\n" % (i, i) for i in range(size // 30))
elif kind == "received":
    line = b"Received: from host%d.example.test by mx.example.test; 1 Jan 2024 10:00 +0000\\n"
    head = b"".join(line % i for i in range(size // 80))
elif kind == "to":
    people = b",\\n ".join(b"Person %d <p%d@example.test>" % (i, i) for i in range(size // 36))
    head = b"To: " + people + b"\\n"
elif kind == "references":
    head = b"References: " + b" ".join(b"<r%d@example.test>" % i for i in range(size // 20))
    head += b"\\n"
if kind == "empty parts":
    raw = tail + b"Content-Type: multipart/mixed; boundary=B\\n\\n" + b"--B\\n\\n" * (size // 5)
elif kind == "report blocks":
    raw = tail + b"Content-Type: multipart/report; boundary=B\\n\\n--B\\n\\nhi\\n"
    raw += b"--B\\nContent-Type: message/delivery-status\\n\\n" + b"A: b\\n\\n" * (size // 6)
else:
    raw = head + tail + b"\\nthe body\\n"
    del head
parse_bytes(b"From: a@example.com\\nSubject: warm-up\\n\\nhi\\n")
ctypes.CDLL(None).malloc_trim(0)
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = hwm()
start = time.perf_counter()
try:
    outcome = parse_bytes(raw).subject
except ParseError as exc:
    outcome = exc.reason
seconds = time.perf_counter() - start
print(json.dumps({"ratio": (hwm() - base) / len(raw), "seconds": seconds,
                  "outcome": outcome}))
"""
)


def main() -> None:
    ratio_main(__doc__, "message", _CHILD, KINDS, "8,32")


if __name__ == "__main__":
    main()
