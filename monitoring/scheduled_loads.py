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

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.ports import CardCommand, CardProviderCommands
from ledger.service import Ledger
from monitoring.checkpoints import commit_point
from monitoring.dates import today, working_day_on_or_before
from monitoring.models import ScheduledLoadRun, ScheduledLoadStatus
from monitoring.repositories import cards as cards_repo
from monitoring.repositories import scheduling as repo
from monitoring.settings import MonitoringSettings, load_settings

SOURCE = "scheduler"
CATCH_UP_DAYS = 7
BATCH = 50  # loads per commit under the scheduler
# Runs made again on the next run: paused (the card was suspended) and failed.
RETRIED = (ScheduledLoadStatus.PAUSED, ScheduledLoadStatus.FAILED)

log = logging.getLogger(__name__)


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
    failed: list[tuple[DueLoad, str]] = field(default_factory=list)
    already: int = 0
    provider_told: int = 0
    provider_not_told: int = 0


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
    """Make every scheduled load due by ``on`` (today) that has not been made.

    Each load is made in a savepoint: one that fails (a closed account, say) is recorded
    as failed, with why, and tried again on the next run, while the rest carry on. Every
    ``BATCH`` loads is a commit point (``monitoring.checkpoints``): under the scheduler
    the loads are committed there, so the ledger's chain-head lock is held briefly, and
    the provider is told only after the loads it hears of are committed (through the
    card-provider port, which records each command for retrying). Run by anything else,
    it all stays in the caller's transaction."""
    settings = settings or load_settings(session)
    on = on or today(clock)
    result = LoadRunResult()
    # Loads committed earlier whose provider was never told (the process stopped).
    _tell_provider(session, clock, provider, repo.untold_loads(session), result)
    commit_point(session)
    due = loads_due(repo.plans_to_load(session, on), on, settings)
    seen = {(d.plan_id, d.due_on) for d in due}
    due += [d for d in paused_loads(repo.paused_runs(session)) if (d.plan_id, d.due_on) not in seen]
    runs = repo.load_runs(session, [(d.plan_id, d.due_on) for d in due])
    ledger = Ledger(session, clock)
    for start in range(0, len(due), BATCH):
        made: list[int] = []
        for load in due[start : start + BATCH]:
            run = _make(session, ledger, clock, load, runs.get((load.plan_id, load.due_on)), result)
            if run is not None:
                made.append(run.id)
        commit_point(session)
        if made:
            _tell_provider(session, clock, provider, repo.untold_loads(session, made), result)
            commit_point(session)
    session.flush()
    return result


def _make(
    session: Session,
    ledger: Ledger,
    clock: Clock,
    load: DueLoad,
    run: ScheduledLoadRun | None,
    result: LoadRunResult,
) -> ScheduledLoadRun | None:
    """Make one load (or record why not). Returns the run when a load was made."""
    if run is not None and run.status not in RETRIED:
        result.already += 1
        return None
    now = clock.now()
    try:
        with session.begin_nested():
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
            status = _status(load)
            if status is ScheduledLoadStatus.LOADED:
                key = load_key(load.plan_id, load.due_on)
                (transfer, *_) = ledger.load(
                    load.budget_account_id,
                    load.amount,
                    source=SOURCE,
                    key=key,
                    reference=f"Scheduled load for {load.due_on.isoformat()}",
                )
                run.transfer_id = transfer.id
            run.status, run.recorded_at, run.detail = status, now, None
            session.flush()
    except Exception as error:  # one plan's failure must not stop the others' loads
        log.exception("scheduled load for plan %s on %s failed", load.plan_id, load.due_on)
        _record_failure(session, load, now, f"{type(error).__name__}: {error}")
        result.failed.append((load, str(error)))
        return None
    {
        ScheduledLoadStatus.LOADED: result.loaded,
        ScheduledLoadStatus.PAUSED: result.paused,
        ScheduledLoadStatus.SKIPPED: result.skipped,
        ScheduledLoadStatus.PERSON_DIED: result.person_died,
    }[status].append(load)
    return run if status is ScheduledLoadStatus.LOADED else None


def _status(load: DueLoad) -> ScheduledLoadStatus:
    if load.died:
        return ScheduledLoadStatus.PERSON_DIED
    if load.amount <= 0:
        return ScheduledLoadStatus.SKIPPED
    if load.suspended:
        return ScheduledLoadStatus.PAUSED
    return ScheduledLoadStatus.LOADED


def _record_failure(session: Session, load: DueLoad, now: datetime, detail: str) -> None:
    run = repo.load_run(session, load.plan_id, load.due_on)
    if run is None:
        run = ScheduledLoadRun(
            plan_id=load.plan_id,
            due_on=load.due_on,
            load_on=load.load_on,
            amount=load.amount,
            recorded_at=now,
        )
        session.add(run)
    run.status, run.recorded_at, run.detail = ScheduledLoadStatus.FAILED, now, detail[:2000]
    session.flush()


def _tell_provider(
    session: Session,
    clock: Clock,
    provider: CardProviderCommands,
    untold: list[Any],
    result: LoadRunResult,
) -> None:
    """Tell the provider of committed loads, each under its load's key. A refusal is
    recorded by the port (and retried by the ``provider_commands`` job); an exception
    leaves the run untold, for the next run."""
    now = clock.now()
    for run, budget_account_id in untold:
        card = cards_repo.budget_card(session, budget_account_id)
        try:
            with session.begin_nested():
                if card is not None:
                    outcome = provider.send(
                        card.id,
                        CardCommand.LOAD,
                        key=load_key(run.plan_id, run.due_on),
                        amount=run.amount,
                    )
                    run.provider_command_id = outcome.command_id
                    run.detail = None if outcome.accepted else outcome.detail[:2000]
                run.provider_told_at = now
                session.flush()
        except Exception as error:
            log.exception("telling the provider of scheduled load %s failed", run.id)
            run.detail = f"provider not told: {type(error).__name__}: {error}"[:2000]
            result.provider_not_told += 1
            continue
        result.provider_told += 1


def load_key(plan_id: int, due_on: date) -> str:
    return f"scheduled-load:{plan_id}:{due_on.isoformat()}"
