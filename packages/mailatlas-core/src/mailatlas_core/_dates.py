"""Dates in the store are UTC ISO-8601 strings (``2024-05-01T09:30:00Z``) so they sort."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from ._errors import InvalidFilterError

__all__ = ["DATE_FILTER_HELP", "parse_date_filter", "parse_mail_date", "to_utc_iso", "utc_now_iso"]

DATE_FILTER_HELP = (
    "YYYY-MM-DD, an ISO-8601 timestamp, today, yesterday, Nh/Nd/Nw/Nmo/Ny (e.g. 7d), "
    "'N days ago' (hours, weeks, months, years) or 'last week|month|year'; in UTC"
)
_UNITS = {
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "mo": "months",
    "month": "months",
    "months": "months",
    "y": "years",
    "year": "years",
    "years": "years",
}
_AGO = re.compile(r"^(\d{1,6})\s*([a-z]+?)(?:\s+ago)?$")
_LAST = re.compile(r"^last\s+(week|month|year)$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


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


def _months_before(when: datetime, months: int) -> datetime:
    import calendar

    total = when.year * 12 + when.month - 1 - months
    year, month = divmod(total, 12)
    if year < 1:
        raise OverflowError("before year 1")
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def _before(now: datetime, count: int, unit: str) -> datetime:
    if unit == "months":
        return _months_before(now, count)
    if unit == "years":
        return _months_before(now, 12 * count)
    return now - timedelta(**{unit: count})


def parse_date_filter(
    value: str | date | datetime, *, name: str = "date", now: datetime | None = None
) -> str:
    """Read a ``since``/``until`` bound: the one parser behind the CLI and the Python API.

    Accepts a :class:`~datetime.date` or :class:`~datetime.datetime` (naive counts as
    UTC), or text: ``YYYY-MM-DD``, an ISO-8601 timestamp, ``today``, ``yesterday``
    (midnight UTC), ``now``, ``7d``/``12h``/``2w``/``3mo``/``1y`` and ``N days ago``
    (hours, weeks, months, years) counted back from now, and ``last week``, ``last
    month``, ``last year`` (one week, month or year ago, as git reads them).

    Returns:
        The bound as stored dates are written (UTC ISO-8601), so it compares with them.

    Raises:
        InvalidFilterError: the value is none of these (``name`` says which bound).
    """
    if isinstance(value, datetime):
        return to_utc_iso(value)
    if isinstance(value, date):
        return to_utc_iso(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if not isinstance(value, str):
        raise InvalidFilterError(f"{name} must be a date or a string, not {type(value).__name__}")
    text = " ".join(value.lower().split())
    now = now or datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        if text == "now":
            return to_utc_iso(now)
        if text in ("today", "yesterday"):
            return to_utc_iso(midnight - timedelta(days=text == "yesterday"))
        match = _LAST.match(text)
        if match:
            return to_utc_iso(_before(now, 1, match[1] + "s"))
        match = _AGO.match(text)
        if match and match[2] in _UNITS:
            return to_utc_iso(_before(now, int(match[1]), _UNITS[match[2]]))
        if _ISO_DAY.match(text):
            return to_utc_iso(datetime.fromisoformat(value.strip().replace("z", "Z")))
    except (ValueError, OverflowError):
        pass
    raise InvalidFilterError(f"{name} {value!r} is not a date — use {DATE_FILTER_HELP}")
