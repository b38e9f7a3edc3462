"""Dates in the store are UTC ISO-8601 strings (``2024-05-01T09:30:00Z``) so they sort."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_mail_date", "to_utc_iso", "utc_now_iso"]


def to_utc_iso(value: datetime) -> str:
    """Format a datetime as UTC ISO-8601 with a ``Z`` suffix. Naive values count as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now_iso() -> str:
    """Now, as stored: UTC with microseconds so that creation order is kept."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_mail_date(value: str | None) -> tuple[str | None, str | None]:
    """Parse an RFC 5322 date header into ``(utc_iso, original_offset)``.

    ``original_offset`` is like ``+0200``; both are ``None`` when the value is absent or
    cannot be read (an unreadable date is never a crash).
    """
    if not value:
        return None, None
    # Imported here: email.utils is only needed by the parser, and commands that only
    # read the store start faster without it.
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, None
    if parsed is None:
        return None, None
    try:
        iso = to_utc_iso(parsed)
    except (OverflowError, ValueError):
        return None, None
    offset = parsed.strftime("%z") if parsed.tzinfo is not None else None
    return iso, offset or None
