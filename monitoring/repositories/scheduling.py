"""Queries for the scheduler: its lease, job locks, plans to load, holds to expire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from ledger.models import Card, CardStatus, Person, Phase, Plan, PlanStatus, Transfer
from monitoring.mcc import long_hold_sql
from monitoring.models import JobLock, ScheduledLoadRun, ScheduledLoadStatus, SchedulerLease
from monitoring.repositories.upsert import insert_ignoring_conflict

LEASE = "scheduler"
CHUNK = 500

# -- the lease -------------------------------------------------------------------------------


def database_now(session: Session) -> datetime:
    """The database server's current time (not the transaction's start), in UTC: the one
    clock every scheduler shares."""
    if session.get_bind().dialect.name == "postgresql":
        found: datetime = session.execute(select(func.clock_timestamp())).scalar_one()
        return found.astimezone(UTC)
    text = session.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def take_or_renew_lease(session: Session, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold the lease until ``now + ttl``: renew it if we hold it, take it if it has
    expired. True when we hold it afterwards."""
    session.execute(
        insert_ignoring_conflict(session, SchedulerLease).values(
            name=LEASE, holder="", term=0, acquired_at=now, renewed_at=now, expires_at=now
        )
    )
    mine = SchedulerLease.holder == holder
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, or_(mine, SchedulerLease.expires_at <= now))
        .values(
            holder=holder,
            term=case((mine, SchedulerLease.term), else_=SchedulerLease.term + 1),
            acquired_at=case((mine, SchedulerLease.acquired_at), else_=now),
            renewed_at=now,
            expires_at=now + ttl,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_lease(session: Session, holder: str, now: datetime) -> None:
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def lease_for_fence(session: Session) -> SchedulerLease | None:
    """The lease row, share-locked until the end of the transaction (PostgreSQL), so no
    other scheduler can take it over between the check and the commit."""
    return session.execute(
        select(SchedulerLease)
        .where(SchedulerLease.name == LEASE)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def current_lease(session: Session) -> SchedulerLease | None:
    return session.execute(
        select(SchedulerLease)
        .where(SchedulerLease.name == LEASE)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


# -- job locks ---------------------------------------------------------------------------------


def lock_job(session: Session, job: str, holder: str, now: datetime, timeout: timedelta) -> bool:
    """Take the job's run lock unless another run holds it (and has not timed out). A lock
    held by a scheduler that is no longer the lease holder (it died, or was cut off) is
    taken at once by the holder: that run can no longer commit anything (every commit is
    fenced by the lease), so waiting for its timeout would only delay the job."""
    session.execute(insert_ignoring_conflict(session, JobLock).values(job=job, runs=0))
    lease_holder = (
        select(SchedulerLease.holder).where(SchedulerLease.name == LEASE).scalar_subquery()
    )
    result = session.execute(
        update(JobLock)
        .where(
            JobLock.job == job,
            or_(
                JobLock.locked_until.is_(None),
                JobLock.locked_until <= now,
                and_(literal(holder) == lease_holder, JobLock.locked_by != lease_holder),
            ),
        )
        .values(
            locked_by=holder,
            locked_until=now + timeout,
            last_started_at=now,
            last_run_by=holder,
            runs=JobLock.runs + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def unlock_job(session: Session, job: str, holder: str, now: datetime, outcome: str) -> None:
    session.execute(
        update(JobLock)
        .where(JobLock.job == job, JobLock.locked_by == holder)
        .values(
            locked_by=None, locked_until=None, last_finished_at=now, last_outcome=outcome[:2000]
        )
        .execution_options(synchronize_session=False)
    )


# -- scheduled loads ---------------------------------------------------------------------------


def _suspended(plan: Any) -> Any:
    return exists().where(
        Card.account_id == plan.budget_account_id, Card.status == CardStatus.SUSPENDED
    )


def plans_to_load(session: Session, on: date) -> list[Any]:
    """Active plans running on ``on``, with whether a card on the budget is suspended and
    the person's date of death, if any."""
    return list(
        session.execute(
            select(
                Plan.id.label("plan_id"),
                Plan.budget_account_id,
                Plan.starts_on,
                Plan.ends_on,
                Plan.period_weeks,
                Plan.budget_per_period,
                Plan.client_contribution_per_period.label("contribution"),
                _suspended(Plan).label("suspended"),
                Person.date_of_death,
            )
            .join(Person, Person.id == Plan.person_id)
            .where(
                Plan.status == PlanStatus.ACTIVE,
                Plan.starts_on <= on + timedelta(days=7),
                or_(Plan.ends_on.is_(None), Plan.ends_on >= on - timedelta(days=7)),
            )
        ).all()
    )


def paused_runs(session: Session) -> list[Any]:
    """Every paused (or failed) load of a plan that is still active, however old, with
    whether a card on the budget is still suspended and the person's date of death."""
    run = ScheduledLoadRun
    return list(
        session.execute(
            select(
                run.plan_id,
                run.due_on,
                run.load_on,
                run.amount,
                Plan.budget_account_id,
                _suspended(Plan).label("suspended"),
                Person.date_of_death,
            )
            .join(Plan, Plan.id == run.plan_id)
            .join(Person, Person.id == Plan.person_id)
            .where(
                run.status.in_([ScheduledLoadStatus.PAUSED, ScheduledLoadStatus.FAILED]),
                Plan.status == PlanStatus.ACTIVE,
            )
            .order_by(run.plan_id, run.due_on)
        ).all()
    )


def load_run(session: Session, plan_id: int, due_on: date) -> ScheduledLoadRun | None:
    return session.execute(
        select(ScheduledLoadRun).where(
            ScheduledLoadRun.plan_id == plan_id, ScheduledLoadRun.due_on == due_on
        )
    ).scalar_one_or_none()


def untold_loads(
    session: Session, run_ids: Sequence[int] | None = None, limit: int = 1000
) -> list[tuple[ScheduledLoadRun, int]]:
    """Loads made whose provider has not been told, with the budget account: these runs
    (all of them when None), oldest first."""
    query = (
        select(ScheduledLoadRun, Plan.budget_account_id)
        .join(Plan, Plan.id == ScheduledLoadRun.plan_id)
        .where(
            ScheduledLoadRun.status == ScheduledLoadStatus.LOADED,
            ScheduledLoadRun.provider_told_at.is_(None),
        )
        .order_by(ScheduledLoadRun.id)
        .limit(limit)
    )
    if run_ids is not None:
        query = query.where(ScheduledLoadRun.id.in_(list(run_ids)))
    return [(run, budget) for run, budget in session.execute(query).all()]


def load_runs(
    session: Session, keys: Sequence[tuple[int, date]]
) -> dict[tuple[int, date], ScheduledLoadRun]:
    found: dict[tuple[int, date], ScheduledLoadRun] = {}
    items = sorted(set(keys))
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        plan_ids = {plan_id for plan_id, _ in chunk}
        first = min(day for _, day in chunk)
        for run in session.execute(
            select(ScheduledLoadRun).where(
                ScheduledLoadRun.plan_id.in_(plan_ids), ScheduledLoadRun.due_on >= first
            )
        ).scalars():
            found[(run.plan_id, run.due_on)] = run
    return found


# -- hold expiry ------------------------------------------------------------------------------


def expired_holds(
    session: Session, older_than: datetime, long_older_than: datetime, limit: int
) -> list[int]:
    """Holds never posted, voided or expired, placed before ``older_than`` (before
    ``long_older_than`` for hotels and car hire), oldest first."""
    hold = aliased(Transfer, name="hold")
    resolution = aliased(Transfer, name="resolution")
    long_hold = long_hold_sql(hold.mcc)
    return list(
        session.execute(
            select(hold.id)
            .where(
                hold.phase == Phase.PENDING,
                ~exists().where(resolution.pending_id == hold.id),
                or_(
                    and_(~long_hold, hold.created_at < older_than),
                    and_(long_hold, hold.created_at < long_older_than),
                    and_(hold.mcc.is_(None), hold.created_at < older_than),
                ),
            )
            .order_by(hold.id)
            .limit(limit)
        ).scalars()
    )
