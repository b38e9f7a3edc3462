"""IMAP flags as the store keeps them: system flags (``\\Seen``) and keywords (``$Label1``).

Flag names are case-insensitive (RFC 3501 §2.3.2): system flags are written in their
usual spelling, keywords as the server first spelled them, each name once, sorted.
``\\Recent`` is left out: it belongs to one session, not to the message.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MAX_FLAGS", "has_flag", "normalize_flags", "split_flags"]

SYSTEM_FLAGS = {f.lower(): f for f in ("\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen")}
MAX_FLAGS = 100  # per message: more is a hostile server; the rest is dropped
MAX_FLAG_LENGTH = 200


def normalize_flags(values: Iterable[str | bytes]) -> tuple[str, ...]:
    """Every usable flag once, system flags in their usual case, sorted."""
    seen: dict[str, str] = {}
    for value in values:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        text = text.strip()
        lower = text.lower()
        if not text or lower == "\\recent" or len(text) > MAX_FLAG_LENGTH:
            continue
        if any(c.isspace() or ord(c) < 0x20 for c in text):
            continue  # not an atom: it could not be matched or stored as one word
        if lower not in seen and len(seen) < MAX_FLAGS:
            seen[lower] = SYSTEM_FLAGS.get(lower, text)
    return tuple(sorted(seen.values()))


def split_flags(flags: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(system flags, keywords) of normalised ``flags``."""
    items = list(flags)
    return (
        tuple(f for f in items if f.startswith("\\")),
        tuple(f for f in items if not f.startswith("\\")),
    )


def has_flag(flags: Iterable[str], name: str) -> bool:
    """Whether ``name`` is among ``flags`` (case-insensitive)."""
    lower = name.lower()
    return any(f.lower() == lower for f in flags)
