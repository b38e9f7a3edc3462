"""Collects extracted text up to the character limit, so readers stop early."""

from __future__ import annotations

__all__ = ["TextSink"]


class TextSink:
    """Pieces of text, joined by newlines, cut at ``limit`` characters."""

    __slots__ = ("chars", "limit", "pieces", "truncated")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[str] = []
        self.chars = 0
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.truncated

    def add(self, text: str) -> bool:
        """Append one piece (a line, a page); ``False`` once the limit is reached."""
        if self.truncated:
            return False
        room = self.limit - self.chars  # below 0 once a piece filled it exactly (+1: its
        if room <= 0:  # newline): the next piece is cut to nothing, not let through
            self.truncated = True
            return False
        if len(text) > room:
            text = text[:room]
            self.truncated = True
        self.pieces.append(text)
        self.chars += len(text) + 1
        return not self.truncated

    def text(self) -> str:
        return "\n".join(self.pieces)
