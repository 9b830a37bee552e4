"""Dates and times as GOV.UK writes them, in council time (Europe/London)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_date(value: date | datetime | None) -> str:
    """6 April 2026."""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def london_datetime(value: datetime | None) -> str:
    """6 April 2026 at 9:05am."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
