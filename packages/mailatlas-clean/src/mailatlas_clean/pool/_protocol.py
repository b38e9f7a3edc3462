"""The wire protocol between the pool and its worker processes.

A frame is an 8-byte little-endian length and a pickle. The first frame to a
worker carries its config (a ``ParserConfig``, or ``EXTRACT_MODE``) and the
registered attachment readers; every later frame is one chunk of items, answered
by one frame *per item*, in order. Between two replies a parse worker may say which
attachment it is reading (``(READING, index)``). Both sides move bytes with
``os.read``/``os.write`` loops (see ``_main`` for why).
"""

from __future__ import annotations

import os
import pickle
from typing import Any

__all__ = [
    "EXTRACT_MODE",
    "HEADER",
    "READING",
    "READY",
    "READ_SIZE",
    "frame",
    "read_frame",
    "write_all",
]

HEADER = 8
READ_SIZE = 1 << 20
READY = "ready"  # the worker's first frame: the parser is imported, requests welcome
# The config that starts a worker in extract mode (one attachment per item, see
# attachments._sandbox); any other config is a ParserConfig (one message per item).
EXTRACT_MODE = "extract"


# A parse worker's note between two replies, ``(READING, index)``: "now reading
# attachment ``index`` of the message I am on". If the worker dies before its next
# reply, that file's reader is to blame (see ``_pool``). A tuple, not a class: the
# worker runs its main module as ``__main__``, whose classes the caller cannot unpickle.
READING = "reading"


def frame(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(HEADER, "little") + payload


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or ``None`` at end of input."""
    parts: list[bytes] = []
    left = size
    while left:
        data = os.read(fd, min(left, READ_SIZE))
        if not data:
            return None
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def read_frame(fd: int) -> Any:
    """The next object from ``fd``, or ``None`` at end of input."""
    header = read_exact(fd, HEADER)
    if header is None:
        return None
    payload = read_exact(fd, int.from_bytes(header, "little"))
    if payload is None:
        return None
    return pickle.loads(payload)  # frames come only from our own parent process


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:READ_SIZE])
        view = view[written:]
