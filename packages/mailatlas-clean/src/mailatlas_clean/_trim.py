"""Give memory freed by a large parse back to the system (glibc's ``malloc_trim``).

A large message's intermediate copies (decoded parts, sanitised HTML, lines) are freed
when its parse returns, but glibc keeps most of that heap: its mmap threshold grows to
the size of the largest block freed, so later large blocks come from the heap, and a
freed heap is not returned. Storing the document then allocates on top of what the
parse left, and the process peaks at parse leftovers plus the store's work. Trimming
after a parse of at least ``TRIM_FROM`` bytes returns the free heap first (a few
milliseconds; nothing on other C libraries, where the call does not exist).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

__all__ = ["TRIM_FROM", "release_after"]

TRIM_FROM = 1 << 20

_trim: Callable[[int], int] | bool | None = False  # False: not looked up yet


def _lookup() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # this process and its C library (no ldconfig run)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_after(size: int) -> None:
    """After parsing a message of ``size`` bytes: return free heap memory if it was large."""
    global _trim
    if size < TRIM_FROM:
        return
    if _trim is False:
        _trim = _lookup()
    if callable(_trim):
        _trim(0)
