"""Scheduled loads: each active plan is loaded once per plan period, on the council's date
moved earlier off weekends and English bank holidays, net of the client contribution
where the council loads net, and paused while a card on the budget is suspended. No
load is made for a date on or after the person's death.

Each load is made exactly once: a ``scheduled_load_runs`` row per plan and date (unique)
and the ledger idempotency key ``scheduled-load:<plan>:<date>``, so a job that re-runs,
or two schedulers racing, cannot load twice. A run that was missed (the scheduler was
down) catches up within ``CATCH_UP_DAYS``; a paused load is made whenever the card is
unsuspended, however long after, as long as the plan is still active.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.ports import CardCommand, CardProviderCommands
from ledger.service import Ledger
from monitoring.dates import today, working_day_on_or_before
from monitoring.models import ScheduledLoadRun, ScheduledLoadStatus
from monitoring.repositories import cards as cards_repo
from monitoring.repositories import scheduling as repo
from monitoring.settings import MonitoringSettings, load_settings

SOURCE = "scheduler"
CATCH_UP_DAYS = 7


@dataclass(frozen=True)
class DueLoad:
    plan_id: int
    budget_account_id: int
    due_on: date  # the council's date for the period
    load_on: date  # the working day it is loaded
    amount: int
    suspended: bool
    died: bool = False  # the person died on or before ``due_on``


@dataclass
class LoadRunResult:
    loaded: list[DueLoad] = field(default_factory=list)
    paused: list[DueLoad] = field(default_factory=list)
    skipped: list[DueLoad] = field(default_factory=list)
    person_died: list[DueLoad] = field(default_factory=list)
    already: int = 0


def due_dates(
    starts_on: date, period_weeks: int, anchor: date | None, first: date, last: date
) -> list[date]:
    """The council's load dates for a plan between ``first`` and ``last``: every
    ``period_weeks`` from the plan's start (or from the council's anchor date)."""
    step = timedelta(weeks=period_weeks)
    origin = anchor or starts_on
    n = (first - origin).days // step.days
    day = origin + step * n
    out = []
    while day <= last:
        if day >= first and day >= starts_on:
            out.append(day)
        day += step
    return out


def loads_due(rows: list[Any], on: date, settings: MonitoringSettings) -> list[DueLoad]:
    """Plan periods whose (moved) load day is on or before ``on`` and within the catch-up
    window."""
    out = []
    for row in rows:
        amount = row.budget_per_period
        if settings.loads_net_of_contribution:
            amount -= row.contribution
        for due_on in due_dates(
            row.starts_on,
            row.period_weeks,
            settings.load_anchor_date,
            on - timedelta(days=CATCH_UP_DAYS),
            on + timedelta(days=7),
        ):
            if row.ends_on is not None and due_on > row.ends_on:
                continue
            load_on = working_day_on_or_before(due_on)
            if on - timedelta(days=CATCH_UP_DAYS) <= load_on <= on:
                out.append(
                    DueLoad(
                        row.plan_id,
                        row.budget_account_id,
                        due_on,
                        load_on,
                        amount,
                        row.suspended,
                        _died_by(row.date_of_death, due_on),
                    )
                )
    return out


def paused_loads(rows: list[Any]) -> list[DueLoad]:
    """Loads paused earlier (``repositories.scheduling.paused_runs``), due again."""
    return [
        DueLoad(
            row.plan_id,
            row.budget_account_id,
            row.due_on,
            row.load_on,
            row.amount,
            row.suspended,
            _died_by(row.date_of_death, row.due_on),
        )
        for row in rows
    ]


def _died_by(date_of_death: date | None, due_on: date) -> bool:
    return date_of_death is not None and date_of_death <= due_on


def run_scheduled_loads(
    session: Session,
    clock: Clock,
    provider: CardProviderCommands,
    *,
    on: date | None = None,
    settings: MonitoringSettings | None = None,
) -> LoadRunResult:
    """Make every scheduled load due by ``on`` (today) that has not been made."""
    settings = settings or load_settings(session)
    on = on or today(clock)
    due = loads_due(repo.plans_to_load(session, on), on, settings)
    seen = {(d.plan_id, d.due_on) for d in due}
    due += [d for d in paused_loads(repo.paused_runs(session)) if (d.plan_id, d.due_on) not in seen]
    runs = repo.load_runs(session, [(d.plan_id, d.due_on) for d in due])
    ledger = Ledger(session, clock)
    result = LoadRunResult()
    now = clock.now()
    for load in due:
        run = runs.get((load.plan_id, load.due_on))
        if run is not None and run.status is not ScheduledLoadStatus.PAUSED:
            result.already += 1
            continue
        if run is None:
            run = ScheduledLoadRun(
                plan_id=load.plan_id,
                due_on=load.due_on,
                load_on=load.load_on,
                amount=load.amount,
                status=ScheduledLoadStatus.PAUSED,
                recorded_at=now,
            )
            session.add(run)
        if load.died:
            run.status = ScheduledLoadStatus.PERSON_DIED
            result.person_died.append(load)
            continue
        if load.amount <= 0:
            run.status = ScheduledLoadStatus.SKIPPED
            result.skipped.append(load)
            continue
        if load.suspended:
            run.status = ScheduledLoadStatus.PAUSED
            result.paused.append(load)
            continue
        key = f"scheduled-load:{load.plan_id}:{load.due_on.isoformat()}"
        (transfer, *_) = ledger.load(
            load.budget_account_id,
            load.amount,
            source=SOURCE,
            key=key,
            reference=f"Scheduled load for {load.due_on.isoformat()}",
        )
        run.status, run.transfer_id, run.recorded_at = ScheduledLoadStatus.LOADED, transfer.id, now
        card = cards_repo.budget_card(session, load.budget_account_id)
        if card is not None:
            provider.send(card.id, CardCommand.LOAD, key=key, amount=load.amount)
        result.loaded.append(load)
    session.flush()
    return result
