"""What every monitor is: a name, a plain-English description, and ``find``, which looks
at what is new since the monitor's watermark with set-based queries and returns hits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar, Protocol

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.money import format_pence
from monitoring.dates import period_start
from monitoring.flags import Hit
from monitoring.repositories import settings as settings_repo
from monitoring.repositories.spend import Window
from monitoring.settings import MonitoringSettings


@dataclass
class MonitorContext:
    session: Session
    clock: Clock
    settings: MonitoringSettings
    window: Window  # the transfers to look at
    since: date | None  # set by ``monitors run --since``
    today: date  # the council's date
    now: datetime
    last_run_at: datetime | None
    # Period totals changed after this transfer watermark are new to this monitor.
    totals_changed_after: int
    # For monitors fed by other records (reconciliation breaks): last record seen, and
    # the newest seen in this run (the monitor sets it).
    last_record_id: int = 0
    record_hi: int = 0

    def only_what_changed(self, settings: Sequence[str]) -> bool:
        """Whether this run may look only at what changed since the last one: it is not
        the first run, nor a ``--since`` recount, and none of ``settings`` (the ones the
        monitor's answer depends on) was set since the last run."""
        return (
            self.since is None
            and self.last_run_at is not None
            and not settings_repo.changed_since(self.session, settings, self.last_run_at)
        )

    def looking_back_to(self, default: timedelta) -> datetime:
        """The earliest moment a time-based rule needs to look at: the last run (or
        ``since``), else ``default`` before now on a first run."""
        if self.since is not None:
            from monitoring.dates import start_of_day

            return start_of_day(self.since)
        if self.last_run_at is not None:
            return self.last_run_at
        return self.now - default


class Monitor(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]
    family: ClassVar[str]
    description: ClassVar[str]

    def find(self, ctx: MonitorContext) -> list[Hit]: ...


def pounds(pence: int) -> str:
    return format_pence(pence)


def period_words(starts_on: date, period_weeks: int, index: int) -> str:
    start = period_start(starts_on, period_weeks, index)
    end = period_start(starts_on, period_weeks, index + 1) - timedelta(days=1)
    return f"the {period_weeks} weeks from {long_date(start)} to {long_date(end)}"


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
