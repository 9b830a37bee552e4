"""What to generate: how many people, how many months of history up to which day, from
which seed. The same spec always gives the same population."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.errors import InvalidRecord

LONDON = ZoneInfo("Europe/London")
MIN_MONTHS = 6  # every planted case needs half a year of history (PAYE is quarterly)
MAX_MONTHS = 36
PROVIDER = "simulated"
OFFICER = "Population generator"


@dataclass(frozen=True)
class PopulationSpec:
    """``people`` cared-for people (carers, carers' budgets and companions come with some
    of them), ``months`` of history ending the day before ``today``, from ``seed``.

    ``plant_share`` is the share of people given each kind of planted case (at least one
    of each kind when the population has people it fits). ``ref_prefix`` starts every
    council reference and card token, so a population can sit beside other people.
    """

    people: int
    today: date
    months: int = MIN_MONTHS
    seed: int = 1
    ref_prefix: str = "GEN"
    plant_share: float = 0.01

    def __post_init__(self) -> None:
        if self.people < 1:
            raise InvalidRecord("a population needs at least one person")
        if not MIN_MONTHS <= self.months <= MAX_MONTHS:
            raise InvalidRecord(f"months of history must be {MIN_MONTHS} to {MAX_MONTHS}")
        if not (self.ref_prefix.isalnum() and self.ref_prefix.isascii()):
            raise InvalidRecord("the reference prefix must be letters and digits")
        if not 1 <= len(self.ref_prefix) <= 8:
            raise InvalidRecord("the reference prefix must be 1 to 8 characters")
        if not 0 <= self.plant_share <= 0.05:
            raise InvalidRecord("the planted share must be between 0 and 0.05 per kind")

    @property
    def first_day(self) -> date:
        """The Monday history starts on (plans start on it or up to three weeks later)."""
        start = self.today - timedelta(days=round(self.months * 365.25 / 12))
        return start - timedelta(days=start.weekday())

    @property
    def last_day(self) -> date:
        """The last whole day of history (the live traffic happens on it too)."""
        return self.today - timedelta(days=1)

    @property
    def as_of(self) -> datetime:
        """The moment the population is as of: 9am on ``today``, London time."""
        return at(self.today, 9)

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time on a council date, as UTC."""
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


def seeded(*parts: object) -> random.Random:
    """A random generator for one part of a population, seeded from the spec's seed and
    the part's name, so the same population comes out every time (never for secrets)."""
    return random.Random(":".join(str(p) for p in parts))  # noqa: S311
