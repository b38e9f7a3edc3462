"""``RawMessage``: one message's exact bytes and where they were read."""

from __future__ import annotations

from dataclasses import dataclass

from mailatlas_core import SourceLocation

__all__ = ["RawMessage"]


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message as read from a container, before any parsing.

    Attributes:
        raw: the message bytes, exactly as stored (mbox ``>From`` escaping undone).
        location: where the message was read (file path, mbox offset, Maildir entry).
        envelope: the mbox ``From `` separator line without its line ending, if any.
        oversize: set when the message was larger than the reader's size limit: how many
            bytes it had. Its bytes were skipped, not kept: ``raw`` is empty.
    """

    raw: bytes
    location: SourceLocation
    envelope: str | None = None
    oversize: int | None = None
