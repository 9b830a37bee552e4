"""Council dates: Europe/London calendar dates, plan periods, and working days in England."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from ledger.clock import Clock

LONDON = ZoneInfo("Europe/London")


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def today(clock: Clock) -> date:
    """The council's date now."""
    return london_date(clock.now())


def start_of_day(day: date) -> datetime:
    """The UTC instant a London date begins."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def period_start(starts_on: date, period_weeks: int, index: int) -> date:
    return starts_on + timedelta(weeks=period_weeks * index)


def period_index(starts_on: date, period_weeks: int, day: date) -> int:
    """Which period of a plan ``day`` falls in (-1 before the plan starts)."""
    if day < starts_on:
        return -1
    return (day - starts_on).days // (7 * period_weeks)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    """A council date moved earlier off weekends and English bank holidays, so money
    arrives before the day it is due, never after (25 Dec 2026, a Friday, becomes
    Thursday 24 Dec; a Saturday becomes the Friday before)."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
