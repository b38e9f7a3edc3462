"""One bytes result written in place, in a buffer of its final size.

A result built from pieces (socket reads, converted slices) and joined holds its pieces
and the join at once, twice its size at the peak. Written into a ``BytesIO`` made at its
final size instead, it is handed over by ``getvalue()`` as that buffer itself: CPython
gives a ``BytesIO``'s buffer away without a copy when nothing holds a view of it (a
``getbuffer()`` view must be released first) and it is exactly as long as what was
written. Shared by mailatlas-clean (line ends) and mailatlas-imap (IMAP literals).
"""

from __future__ import annotations

import io

__all__ = ["presized"]


def presized(size: int) -> io.BytesIO:
    """A ``BytesIO`` of ``size`` zero bytes, positioned at its start."""
    buffer = io.BytesIO()
    if size > 0:
        buffer.seek(size - 1)
        buffer.write(b"\0")
        buffer.seek(0)
    return buffer
