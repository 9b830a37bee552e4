"""Plan periods in council dates (Europe/London), and the load schedule they imply.

A plan's periods run every ``period_weeks`` from ``starts_on``: period 1 starts on
``starts_on``, period 2 ``period_weeks`` later, and so on, until the plan ends. The
council loads the budget on the first day of each period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.clock import Clock
from ledger.models import Plan

LONDON = ZoneInfo("Europe/London")  # council dates


def london_today(clock: Clock) -> date:
    return clock.now().astimezone(LONDON).date()


def london_midnight(day: date) -> datetime:
    """The moment a council date begins, in UTC."""
    return datetime.combine(day, time.min, LONDON).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    number: int  # 1 for the plan's first period
    starts_on: date
    ends_on: date  # the first day of the next period (exclusive)

    @property
    def last_day(self) -> date:
        return self.ends_on - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        return london_midnight(self.starts_on)

    @property
    def end_at(self) -> datetime:
        return london_midnight(self.ends_on)


def period(plan: Plan, number: int) -> Period:
    length = timedelta(weeks=plan.period_weeks)
    starts_on = plan.starts_on + length * (number - 1)
    return Period(number, starts_on, starts_on + length)


def _within_plan(plan: Plan, day: date) -> bool:
    return plan.starts_on <= day and (plan.ends_on is None or day <= plan.ends_on)


def period_number(plan: Plan, day: date) -> int | None:
    """Which period ``day`` falls in, or None outside the plan."""
    if not _within_plan(plan, day):
        return None
    return (day - plan.starts_on).days // (7 * plan.period_weeks) + 1


def periods_so_far(plan: Plan, today: date) -> list[Period]:
    """The plan's periods up to and including today's (or its last), newest first."""
    last = period_number(plan, today)
    if last is None:
        if today < plan.starts_on or plan.ends_on is None:
            return []
        last = period_number(plan, plan.ends_on)
        assert last is not None
    return [period(plan, n) for n in range(last, 0, -1)]


@dataclass(frozen=True)
class NextLoad:
    on: date
    amount: int


def next_load(plan: Plan, today: date) -> NextLoad | None:
    """The next scheduled load after today: the first day of the next period, for the
    plan's budget per period. Kept simple on purpose: the amount is the gross budget (the
    person pays their contribution in separately), and emergency loads, adjustments and
    pot top-ups are not forecast."""
    if today < plan.starts_on:
        on = plan.starts_on
    else:
        number = (today - plan.starts_on).days // (7 * plan.period_weeks) + 1
        on = period(plan, number + 1).starts_on
    if plan.ends_on is not None and on > plan.ends_on:
        return None
    return NextLoad(on, plan.budget_per_period)
