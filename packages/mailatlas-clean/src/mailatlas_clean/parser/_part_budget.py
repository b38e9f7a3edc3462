"""A bound on the MIME parts of one message (issue 11: memory at most 4x a message's
size for every content type).

Every part costs the parse about 0.7-1.9 KB of objects (its tree node, its headers, its
metadata entry, its asset), whatever its size: 2 MB of empty parts (``--B`` lines, five
bytes each: 420,000 parts) peaked at 144x the message and took 17 s, and 2 MB of a
delivery report's blocks (each block of its body is a part) at 90x. A message of 512 MB
(the default maximum) could ask for tens of GB. Real mail has a few parts, a few
hundred at the very most, and parts of 1 KB stay within 4x.

So a parse makes at most ``max(PARTS_FLOOR, size // BYTES_PER_PART)`` parts. The count
is taken where a part is made, by :mod:`._multipart` and by the stdlib parser alike
(:class:`._feedparser.BytesFeedParser`, also when a broken multipart is parsed again
with the boundary it really uses: :mod:`._boundary`, with a budget of its payload's
size), so no kind of part gets around it; the part past the limit stops the parse, and
the message is recorded as a failure with the reason, its raw bytes kept (as a message
above the size limit is).
"""

from __future__ import annotations

from .._errors import ParseError

__all__ = ["BYTES_PER_PART", "PARTS_FLOOR", "PartBudget"]

PARTS_FLOOR = 20_000  # tests/hostile/test_extremes.py stores 10,000 parts of a few bytes
BYTES_PER_PART = 512


class PartBudget:
    """The parts a parse of a message of ``size`` bytes may still make."""

    __slots__ = ("left", "limit")

    def __init__(self, size: int) -> None:
        self.limit = max(PARTS_FLOOR, size // BYTES_PER_PART)
        self.left = self.limit

    def take(self) -> None:
        """Count one part made; past the limit, :class:`ParseError` (the failure's
        reason), which the offset reader lets through rather than fall back on."""
        self.left -= 1
        if self.left < 0:
            raise ParseError(
                f"the message has more than {self.limit:,} MIME parts (at most one per"
                f" {BYTES_PER_PART} bytes of message, or {PARTS_FLOOR:,}); it was not"
                " parsed, its raw bytes are kept"
            )
