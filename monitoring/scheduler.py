"""``dpledger scheduler``: the one process that runs scheduled jobs.

Several schedulers may be started (one per machine, say); a lease in the database decides
which one runs jobs. The holder renews it every ``renew`` seconds (10 by default); it
lasts ``ttl`` (30 by default), so when the holder dies another takes over within
``ttl + renew`` seconds, well within a minute.

A job never overlaps itself: APScheduler runs at most one instance per process, and a
per-job lock row in the database covers every process. A job runs in its own transaction
(a long job may commit as it goes, at its commit points: ``monitoring.checkpoints``) and,
just before each commit, checks (under a share lock on the lease row) that this
scheduler still holds the lease, so a scheduler that lost the lease while running a job
(it was paused, cut off) rolls back instead of committing work the new holder also does.
What a job does is idempotent as well (loads are keyed per plan and date, flags by their
evidence), so no job's effect is ever applied twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import Clock
from ledger.db import unit_of_work
from ledger.log_context import log_fields, new_run_id
from ledger.ports import CardProviderCommands
from monitoring import clawback, holds, notifications, scheduled_loads
from monitoring.checkpoints import allow_commit_points
from monitoring.errors import LeaseLost
from monitoring.monitors import ALL_MONITORS
from monitoring.notifications import Sender
from monitoring.provider import UnfinishedCommands
from monitoring.repositories import scheduling as repo
from monitoring.runner import run_monitor

log = logging.getLogger(__name__)

Work = Callable[[Session, Clock], str]
RETRY_LIMIT = 100  # provider commands sent again per run, oldest first


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """This process's view of the scheduler lease.

    Every time the lease is compared with is the database's (``database_time``, the
    default): schedulers on several machines agree on it even when the machines' clocks
    do not. Whether the lease is still held between renewals is judged by this process's
    monotonic clock, from just before the renewal, so never too generously. Tests that
    move time pass ``database_time=False`` and a clock they control."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        holder: str,
        ttl: timedelta = timedelta(seconds=30),
        *,
        database_time: bool = True,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.holder = holder
        self.ttl = ttl
        self.database_time = database_time
        self._held_until: float | datetime | None = None
        # Called when this process takes the lease over (``build`` runs every job then).
        self.on_taken: Callable[[], None] | None = None

    def now(self, session: Session) -> datetime:
        """The time the lease and job locks are reckoned in (the database's)."""
        return repo.database_now(session) if self.database_time else self.clock.now()

    def renew(self) -> bool:
        """Take or renew the lease (its own short transaction). True while we hold it."""
        started = time.monotonic()
        now: datetime | None = None
        try:
            with unit_of_work(self.factory) as session:
                now = self.now(session)
                held = repo.take_or_renew_lease(session, self.holder, now, self.ttl)
        except Exception:
            log.exception("could not renew the scheduler lease")
            held = False
        was = self.held
        if not held or now is None:
            self._held_until = None
        elif self.database_time:
            self._held_until = started + self.ttl.total_seconds()
        else:
            self._held_until = now + self.ttl
        if held and not was:
            log.info("scheduler %s holds the lease", self.holder)
            if self.on_taken is not None:
                self.on_taken()
        elif was and not held:
            log.warning("scheduler %s lost the lease", self.holder)
        return held

    @property
    def held(self) -> bool:
        """Held as far as we know: renewed, and not yet expired."""
        until = self._held_until
        if until is None:
            return False
        if isinstance(until, float):
            return time.monotonic() < until
        return self.clock.now() < until

    def release(self) -> None:
        if self._held_until is None:
            return
        with unit_of_work(self.factory) as session:
            repo.release_lease(session, self.holder, self.now(session))
        self._held_until = None

    def fence(self, session: Session) -> None:
        """Raise ``LeaseLost`` unless this process holds an unexpired lease, checked in the
        caller's transaction just before it commits."""
        lease = repo.lease_for_fence(session)
        if lease is None or lease.holder != self.holder or lease.expires_at <= self.now(session):
            raise LeaseLost(f"scheduler {self.holder} no longer holds the lease")


@dataclass(frozen=True)
class Job:
    name: str
    work: Work
    every_seconds: int | None = None  # an interval ...
    daily_at: tuple[int, int] | None = None  # ... or a time of day, London time
    timeout: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class JobOutcome:
    job: str
    ran: bool
    detail: str


class JobRunner:
    """Runs a job if this process holds the lease and the job's lock."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock, lease: Lease) -> None:
        self.factory = factory
        self.clock = clock
        self.lease = lease

    def run(self, job: Job) -> JobOutcome:
        """Run the job once if this process may; every log line written meanwhile (by the
        job's services too) carries the job's name and a run id of its own."""
        with log_fields(job=job.name, job_run_id=new_run_id()):
            return self._run(job)

    def _run(self, job: Job) -> JobOutcome:
        if not self.lease.held:
            return JobOutcome(job.name, False, "not the lease holder")
        holder = self.lease.holder
        with unit_of_work(self.factory) as session:
            now = self.lease.now(session)
            locked = repo.lock_job(session, job.name, holder, now, job.timeout)
        if not locked:
            return JobOutcome(job.name, False, "already running")
        outcome = "failed"
        try:
            detail = self._work(job)
            outcome = f"ok: {detail}"
            log.info("job %s: %s", job.name, detail)
            return JobOutcome(job.name, True, detail)
        except LeaseLost as error:
            outcome = f"rolled back: {error.detail}"
            log.warning("job %s rolled back: %s", job.name, error.detail)
            return JobOutcome(job.name, False, outcome)
        except Exception as error:
            outcome = f"failed: {error!r}"
            log.exception("job %s failed", job.name)
            return JobOutcome(job.name, False, outcome)
        finally:
            with unit_of_work(self.factory) as session:
                repo.unlock_job(session, job.name, holder, self.lease.now(session), outcome)

    def _work(self, job: Job) -> str:
        """The job in its own transaction, committed only while this process holds the
        lease. A job may commit part of its work earlier at its commit points
        (``monitoring.checkpoints``), each checked against the lease the same way."""
        with self.factory() as session:

            def commit() -> None:
                self.lease.fence(session)
                session.commit()

            session.info["scheduler"] = self.lease.holder
            allow_commit_points(session, commit)
            try:
                detail = job.work(session, self.clock)
                commit()
            except BaseException:
                session.rollback()
                raise
            return detail


def default_jobs(
    provider_for: Callable[[Session], CardProviderCommands],
    sender: Sender,
    *,
    monitor_every: int = 3600,
    retry_for: Callable[[Session], UnfinishedCommands] | None = None,
) -> list[Job]:
    """Every monitor (hourly), scheduled loads (hourly: a day's loads are made at its first
    run that day, and a run is idempotent, so a scheduler that takes over at any time
    still makes them), hold expiry (hourly), notification dispatch (every minute)."""
    jobs = [
        Job(f"monitor:{monitor.name}", _monitor_work(monitor.name), every_seconds=monitor_every)
        for monitor in ALL_MONITORS
    ]

    def loads(session: Session, clock: Clock) -> str:
        result = scheduled_loads.run_scheduled_loads(session, clock, provider_for(session))
        return (
            f"{len(result.loaded)} loaded, {len(result.paused)} paused, "
            f"{len(result.skipped)} skipped, {len(result.person_died)} not made (the person "
            f"has died), {len(result.failed)} failed, {result.already} already made; "
            f"provider told of {result.provider_told}, {result.provider_not_told} to retry"
        )

    def expiry(session: Session, clock: Clock) -> str:
        return f"{len(holds.expire_old_holds(session, clock))} holds expired"

    def dispatch(session: Session, clock: Clock) -> str:
        r = notifications.dispatch(session, clock, sender)
        opened = clawback.record_sent_notices(session, clock)
        return (
            f"{r.sent} sent, {r.logged} logged, {r.retrying} to retry, {r.failed} failed; "
            f"{opened} clawback response windows opened"
        )

    def retry_commands(session: Session, clock: Clock) -> str:
        if retry_for is None:
            return "no card provider configured: nothing to send again"
        outcomes = retry_for(session).retry_unfinished(RETRY_LIMIT)
        accepted = sum(1 for o in outcomes if o.accepted)
        waiting = sum(1 for o in outcomes if o.retryable)
        refused = len(outcomes) - accepted - waiting
        return f"{accepted} carried out, {waiting} still failing, {refused} refused"

    jobs += [
        Job("scheduled_loads", loads, every_seconds=3600),
        Job("hold_expiry", expiry, every_seconds=3600),
        Job("notifications", dispatch, every_seconds=60),
        Job("provider_commands", retry_commands, every_seconds=300),
    ]
    return jobs


def _monitor_work(name: str) -> Work:
    def work(session: Session, clock: Clock) -> str:
        runner = session.info.get("scheduler", "scheduler")
        result = run_monitor(session, clock, name, runner=runner)
        return f"{len(result.hits)} hits, {result.raised.new_flags} new flags"

    return work


def build(
    runner: JobRunner, jobs: list[Job], *, renew_seconds: float = 10.0, workers: int = 2
) -> Any:
    """An APScheduler ``BlockingScheduler`` with the lease renewal and the jobs.

    The lease is renewed on a thread of its own, so busy jobs never delay it; jobs share
    a few threads (they mostly wait on the database, and SQLite writes one at a time).
    Every job runs soon after start-up, and again whenever this process takes the lease
    over, so nothing the previous holder left undone waits for its next turn.
    """
    # APScheduler 3 ships no type information.
    from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
    from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
    from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

    scheduler = BlockingScheduler(
        timezone="Europe/London",
        executors={"default": ThreadPoolExecutor(workers), "lease": ThreadPoolExecutor(1)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
    )
    now = runner.clock.now()
    scheduler.add_job(
        runner.lease.renew,
        IntervalTrigger(seconds=renew_seconds),
        id="lease",
        executor="lease",
        next_run_time=now,
    )
    for job in jobs:
        if job.daily_at is not None:
            hour, minute = job.daily_at
            trigger: Any = CronTrigger(hour=hour, minute=minute, timezone="Europe/London")
            first = now + timedelta(seconds=renew_seconds)  # catch up once at start-up
        else:
            trigger = IntervalTrigger(seconds=job.every_seconds or 3600)
            first = now + timedelta(seconds=renew_seconds)
        scheduler.add_job(runner.run, trigger, args=[job], id=job.name, next_run_time=first)

    def run_every_job_soon() -> None:
        soon = runner.clock.now() + timedelta(seconds=1)
        for job in jobs:
            scheduler.modify_job(job.name, next_run_time=soon)

    runner.lease.on_taken = run_every_job_soon
    return scheduler
