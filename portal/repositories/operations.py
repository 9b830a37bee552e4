"""Read-only queries for the health check and the metrics: a few cheap aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Float, cast, func, select, text
from sqlalchemy.orm import Session

from adapters.models import InboundEvent, InboxStatus
from monitoring.models import JobLock, MonitorRun, SchedulerLease

# The name of the one scheduler lease row (monitoring.repositories.scheduling.LEASE).
SCHEDULER_LEASE = "scheduler"


def ping(session: Session) -> None:
    """Raise unless the database answers."""
    session.execute(text("SELECT 1")).scalar_one()


@dataclass(frozen=True)
class LeaseView:
    holder: str
    term: int
    renewed_at: datetime
    expires_at: datetime


def scheduler_lease(session: Session) -> LeaseView | None:
    """The scheduler lease as it stands (held or not), without locking it."""
    row = session.execute(
        select(
            SchedulerLease.holder,
            SchedulerLease.term,
            SchedulerLease.renewed_at,
            SchedulerLease.expires_at,
        ).where(SchedulerLease.name == SCHEDULER_LEASE)
    ).one_or_none()
    if row is None:
        return None
    return LeaseView(row.holder, row.term, row.renewed_at, row.expires_at)


@dataclass(frozen=True)
class InboxCounts:
    received: int  # stored, not yet applied: the backlog
    parked: int  # could not be applied; waiting for an officer or a replay
    oldest_received_at: datetime | None


def inbox_counts(session: Session) -> InboxCounts:
    counts = dict.fromkeys((InboxStatus.RECEIVED, InboxStatus.PARKED), 0)
    oldest: datetime | None = None
    for status in counts:
        # One status at a time: each is a range of the (status, id) index.
        counts[status] = session.execute(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.status == status)
        ).scalar_one()
    if counts[InboxStatus.RECEIVED]:
        oldest = session.execute(
            select(func.min(InboundEvent.received_at)).where(
                InboundEvent.status == InboxStatus.RECEIVED
            )
        ).scalar_one()
    return InboxCounts(counts[InboxStatus.RECEIVED], counts[InboxStatus.PARKED], oldest)


@dataclass(frozen=True)
class MonitorRunStats:
    monitor: str
    runs: int
    seconds_total: float
    seconds_max: float
    flags_raised: int
    last_finished_at: datetime | None


def _seconds(session: Session) -> ColumnElement[float]:
    """A run's duration in seconds, in this database's own arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        # Julian days are doubles good to about 50 microseconds: rounded to milliseconds.
        days = func.julianday(MonitorRun.finished_at) - func.julianday(MonitorRun.started_at)
        return cast(func.round(days * 86400.0, 3), Float)
    return cast(func.extract("epoch", MonitorRun.finished_at - MonitorRun.started_at), Float)


def monitor_run_stats(session: Session) -> list[MonitorRunStats]:
    """Per monitor: how many runs, their total and longest duration, flags raised."""
    seconds = _seconds(session)
    rows = session.execute(
        select(
            MonitorRun.monitor,
            func.count(),
            func.coalesce(func.sum(seconds), 0.0),
            func.coalesce(func.max(seconds), 0.0),
            func.coalesce(func.sum(MonitorRun.flags_raised), 0),
            func.max(MonitorRun.finished_at),
        )
        .group_by(MonitorRun.monitor)
        .order_by(MonitorRun.monitor)
    ).all()
    return [
        MonitorRunStats(
            monitor=row[0],
            runs=int(row[1]),
            seconds_total=round(max(float(row[2]), 0.0), 6),
            seconds_max=max(float(row[3]), 0.0),
            flags_raised=int(row[4]),
            last_finished_at=row[5],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class JobStats:
    job: str
    runs: int  # runs started, by every scheduler
    last_finished_at: datetime | None
    last_ok: bool | None  # None until a run has finished


def scheduler_jobs(session: Session) -> list[JobStats]:
    """Each scheduled job as its lock row has it: how often it started, when and how its
    last run ended (one small row per job)."""
    return [
        JobStats(
            job=lock.job,
            runs=int(lock.runs or 0),
            last_finished_at=lock.last_finished_at,
            last_ok=None if lock.last_outcome is None else lock.last_outcome.startswith("ok"),
        )
        for lock in session.execute(select(JobLock).order_by(JobLock.job)).scalars()
    ]
