"""The date of a forwarded original keeps its AM/PM (``10:23 PM`` is 22:23)."""

from __future__ import annotations

import pytest
from mailatlas_clean import parse_bytes
from mailatlas_clean.cleaning._forwarded import original_author_and_date


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("Mon, Jan 8, 2024 at 10:23 PM", "2024-01-08T22:23:00Z"),  # Gmail
        ("Monday, January 8, 2024 10:23 PM", "2024-01-08T22:23:00Z"),  # Outlook
        ("Monday, January 8, 2024 12:05 AM", "2024-01-08T00:05:00Z"),
        ("Monday, January 8, 2024 12:05 PM", "2024-01-08T12:05:00Z"),
        ("Mon, 8 Jan 2024 10:23 PM", "2024-01-08T22:23:00Z"),
        ("Mon, 8 Jan 2024 10:23 PM +0100", "2024-01-08T21:23:00Z"),
        ("January 8, 2024 at 10:23:11 PM GMT", "2024-01-08T22:23:11Z"),  # Apple
        ("1/8/2024 10:23 PM", "2024-01-08T22:23:00Z"),
        ("Mon, 8 Jan 2024 22:23:00 +0000", "2024-01-08T22:23:00Z"),  # RFC 5322
        ("Monday, January 8, 2024 9:15 AM", "2024-01-08T09:15:00Z"),
    ],
)
def test_original_date_keeps_pm(written: str, utc: str) -> None:
    chain = [{"style": "outlook", "from": "Ann <ann@example.test>", "date": written}]
    assert original_author_and_date(chain) == ("Ann <ann@example.test>", utc)


def test_published_at_of_a_forwarded_message_keeps_pm() -> None:
    raw = (
        b"From: Bob <bob@example.test>\r\nTo: c@example.test\r\nSubject: Fwd: plan\r\n"
        b"Date: Tue, 9 Jan 2024 08:00:00 +0000\r\nMessage-ID: <fwd-pm@example.test>\r\n\r\n"
        b"See below.\r\n\r\n---------- Forwarded message ---------\r\n"
        b"From: Ann <ann@example.test>\r\nDate: Mon, Jan 8, 2024 at 10:23 PM\r\n"
        b"Subject: plan\r\nTo: Bob <bob@example.test>\r\n\r\nThe plan.\r\n"
    )
    doc = parse_bytes(raw)
    assert doc.published_at == "2024-01-08T22:23:00Z"
    assert doc.metadata["dates"]["utc"] == "2024-01-09T08:00:00Z"  # the Date header
