"""Keep glibc's heap from holding a large message's memory (``mallopt``, ``malloc_trim``).

glibc serves a block above its mmap threshold with a mapping of its own, returned to the
system when it is freed. But the threshold is dynamic: freeing such a block raises it
to that block's size, so the next blocks of a large message (its decoded body, the
cleaned text, the store's copies) come from the heap instead, where a freed block is
kept, and the process peaks at what earlier steps left plus what the next one needs
(an 8 MB text message: 6.1x its size in memory one run, 5.3x another, depending on the
order its blocks were freed). So, once a message of at least ``TRIM_FROM`` bytes is
handled, the threshold is pinned at ``MMAP_FROM`` (which also stops the dynamic
adjustment), and after its parse the free heap is handed back (``malloc_trim``). Both
take a few microseconds; on other C libraries, where the calls do not exist, nothing
happens.

The store hands the heap back too, once it has written and let go of a large message's
attachment bytes (:meth:`DocumentStore.add` with ``consume``): thousands of small parts
are small heap blocks, freed in a run that Python's own allocator cannot reuse (it maps
arenas of its own), so the rows and the metadata text built next would otherwise come on
top of them (a one-message ingest of many small CSV files: the store's steps peaked at
3.96x the message's size, above the parse's 3.74x; with the heap handed back, 3.45x).

Used by mailatlas-clean's parser and pool as well as by the store.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MMAP_FROM", "TRIM_FROM", "pin_mmap_threshold", "release_after"]

TRIM_FROM = 1 << 20
MMAP_FROM = 128 << 10
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h

_libc: Any = False  # False: not looked up yet; None: not glibc
_pinned = False


def _glibc() -> Any:
    global _libc
    if _libc is False:
        import ctypes  # not at import time: a rerun with nothing to parse never needs it

        try:
            libc = ctypes.CDLL(None)  # this process and its C library (no ldconfig run)
            _libc = libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
        except OSError:
            _libc = None
    return _libc


def pin_mmap_threshold(size: int) -> None:
    """Before handling a message of ``size`` bytes: if it is large, pin the threshold
    above which blocks are mapped (once per process)."""
    global _pinned
    if size < TRIM_FROM or _pinned:
        return
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_FROM)
    _pinned = True


def release_after(size: int) -> None:
    """After parsing a message of ``size`` bytes, or freeing ``size`` bytes of its parts:
    return free heap memory if it was large."""
    if size < TRIM_FROM:
        return
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
