"""The scheduler: one lease holder at a time, takeover within a minute when the holder
dies, a job never overlapping itself, and no job's work committed twice."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.clock import Clock, FixedClock, SystemClock
from ledger.models import Transfer, TransferCode
from monitoring.audit import record_action
from monitoring.dates import today as london_today
from monitoring.errors import LeaseLost
from monitoring.models import AuditEntry, JobLock, MonitorRun, ScheduledLoadRun, SchedulerLease
from monitoring.notifications import LogSender
from monitoring.repositories import scheduling as repo
from monitoring.scheduler import Job, JobRunner, Lease, build, default_jobs
from tests.monitoring.builders import World
from tests.monitoring.fakes import RecordingProvider

TTL = timedelta(seconds=30)
JOBS = default_jobs(lambda session: RecordingProvider(), LogSender())
JOB_NAMES = {job.name for job in JOBS}


def marker_job(name: str = "marker", during=None) -> Job:
    """A job that writes one audit row per run, naming the lease holder."""

    def work(session, clock: Clock) -> str:
        holder = session.info["holder"]
        if during is not None:
            during()
        record_action(
            session,
            clock,
            actor=holder,
            action="job_ran",
            subject_type="job",
            subject_id=0,
            reason=name,
        )
        return "marked"

    return Job(name, work, every_seconds=10)


class HolderRunner(JobRunner):
    """Tells the job which scheduler ran it (through the session's info)."""

    def run(self, job: Job):  # type: ignore[override]
        work = job.work

        def tagged(session, clock):
            session.info["holder"] = self.lease.holder
            return work(session, clock)

        return super().run(Job(job.name, tagged, job.every_seconds))


def runs_by(committed):
    with committed() as session:
        return [
            e.actor
            for e in session.execute(
                select(AuditEntry).where(AuditEntry.action == "job_ran").order_by(AuditEntry.id)
            ).scalars()
        ]


def test_one_holder_at_a_time_and_takeover_when_the_holder_stops_renewing(committed):
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    assert a.renew() and not b.renew()
    clock.advance(seconds=10)
    assert a.renew() and not b.renew()
    # A is killed: it stops renewing. Its lease runs out 30 s after its last renewal.
    clock.advance(seconds=29)
    assert not b.renew()
    clock.advance(seconds=1)
    assert b.renew() and not a.held
    with committed() as session:
        lease = session.get(SchedulerLease, "scheduler")
        assert (lease.holder, lease.term) == ("B", 2)
    # Had A come back, it could not take the lease back while B renews.
    clock.advance(seconds=10)
    assert b.renew() and not a.renew()


def test_only_the_holder_runs_jobs_and_each_run_happens_once(committed):
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    run_a, run_b = HolderRunner(committed, clock, a), HolderRunner(committed, clock, b)
    a.renew()
    b.renew()
    job = marker_job()
    assert run_a.run(job).ran and not run_b.run(job).ran
    clock.advance(seconds=40)  # A died after that run
    b.renew()
    assert run_b.run(job).ran and not run_a.run(job).ran
    assert runs_by(committed) == ["A", "B"]


def test_a_holder_that_lost_the_lease_mid_job_rolls_back(committed):
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    a.renew()

    def paused_while_b_takes_over() -> None:
        clock.advance(seconds=45)  # A stalls (GC pause, lost network) past its lease
        assert b.renew()

    outcome = HolderRunner(committed, clock, a).run(marker_job(during=paused_while_b_takes_over))
    assert not outcome.ran and "rolled back" in outcome.detail
    assert HolderRunner(committed, clock, b).run(marker_job()).ran
    assert runs_by(committed) == ["B"]


def test_a_job_never_overlaps_itself(committed):
    now = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    timeout = timedelta(minutes=30)
    with committed() as session, session.begin():
        assert repo.lock_job(session, "monitor:surplus", "A", now, timeout)
        assert not repo.lock_job(session, "monitor:surplus", "B", now, timeout)
        assert repo.lock_job(session, "monitor:arrears", "B", now, timeout)
        # A run that died without unlocking blocks the job only until its timeout.
        assert repo.lock_job(session, "monitor:surplus", "B", now + timeout, timeout)
        repo.unlock_job(session, "monitor:surplus", "B", now + timeout, "ok")
        assert repo.lock_job(session, "monitor:surplus", "A", now + timeout, timeout)
        lock = session.get(JobLock, "monitor:surplus")
        assert lock.runs == 3 and lock.last_outcome == "ok"


def test_a_job_running_when_its_holder_died_is_run_by_the_new_holder_at_once(committed):
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    assert a.renew()
    # A takes the job's lock and is killed before unlocking (its lock lasts 30 minutes).
    with committed() as session, session.begin():
        assert repo.lock_job(session, "monitor:surplus", "A", clock.now(), timedelta(minutes=30))
    clock.advance(seconds=40)
    assert b.renew()
    outcome = HolderRunner(committed, clock, b).run(marker_job("monitor:surplus"))
    assert outcome.ran, outcome.detail
    with committed() as session:
        lock = session.get(JobLock, "monitor:surplus")
        assert (lock.locked_by, lock.last_run_by, lock.runs) == (None, "B", 2)


def test_a_lock_is_not_taken_from_the_lease_holder_nor_by_a_non_holder(committed):
    clock = FixedClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
    a = Lease(committed, clock, "A", TTL, database_time=False)
    assert a.renew()
    timeout = timedelta(minutes=30)
    with committed() as session, session.begin():
        assert repo.lock_job(session, "hold_expiry", "A", clock.now(), timeout)
        # B does not hold the lease: it cannot take A's lock.
        assert not repo.lock_job(session, "hold_expiry", "B", clock.now(), timeout)
        # A lock held by a dead scheduler is not taken by a non-holder either.
        assert repo.lock_job(session, "notifications", "C", clock.now(), timeout)
        assert not repo.lock_job(session, "notifications", "B", clock.now(), timeout)
        assert repo.lock_job(session, "notifications", "A", clock.now(), timeout)


# -- two real scheduler processes -------------------------------------------------------------


def _start(url: str, holder: str, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("dpledger")),
        "scheduler",
        "--holder",
        holder,
        "--lease-seconds",
        "4",
        "--renew-seconds",
        "1",
        "--every",
        "monitors=1",
        "--every",
        "scheduled_loads=1",
        "--every",
        "hold_expiry=2",
        "--every",
        "notifications=2",
    ]
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_for(predicate, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.concurrency
def test_two_scheduler_processes_one_killed_the_other_takes_over(engine, committed, tmp_path):
    clock = SystemClock()
    with committed() as session, session.begin():
        world = World(session, FixedClock(clock.now()))
        case = world.case(budget=50000, starts_on=london_today(clock))
    url = engine.url.render_as_string(hide_password=False)

    def holder() -> str | None:
        with committed() as session:
            lease = session.get(SchedulerLease, "scheduler")
            return lease.holder if lease and lease.expires_at > datetime.now(UTC) else None

    def runs_by(who: str) -> int:
        with committed() as session:
            return session.execute(
                select(func.count()).select_from(MonitorRun).where(MonitorRun.runner == who)
            ).scalar_one()

    def _jobs_not_yet_run_by(who: str, after: datetime) -> set[str]:
        with committed() as session:
            locks = {lock.job: lock for lock in session.execute(select(JobLock)).scalars()}
        return {
            name
            for name in JOB_NAMES
            if name not in locks
            or locks[name].last_run_by != who
            or locks[name].last_started_at < after
            or locks[name].last_finished_at is None
            or locks[name].last_finished_at < locks[name].last_started_at
        }

    first = _start(url, "P1", tmp_path / "p1.log")
    second = None
    try:
        _wait_for(lambda: holder() == "P1", 30)
        second = _start(url, "P2", tmp_path / "p2.log")
        _wait_for(lambda: runs_by("P1") >= 45, 60)  # three rounds of every monitor
        assert holder() == "P1" and runs_by("P2") == 0
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = datetime.now(UTC)
        took = _wait_for(lambda: holder() == "P2", 60)
        assert took < 60
        _wait_for(lambda: runs_by("P2") >= 45, 60)
        _wait_for(lambda: not _jobs_not_yet_run_by("P2", killed_at), 60)
        with committed() as session:
            outcomes = {
                lock.job: lock.last_outcome for lock in session.execute(select(JobLock)).scalars()
            }
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
    logs = "\n".join((tmp_path / f"{p}.log").read_text() for p in ("p1", "p2"))
    # Every job, whatever was running when P1 was killed, has been run by P2 since.
    assert _jobs_not_yet_run_by("P2", killed_at) == set(), logs
    assert all(outcome.startswith("ok") for outcome in outcomes.values()), (outcomes, logs)
    with committed() as session:
        loads = (
            session.execute(
                select(Transfer).where(
                    Transfer.code == TransferCode.LOAD,
                    Transfer.idempotency_key.like(f"scheduled-load:{case.plan.id}:%"),
                )
            )
            .scalars()
            .all()
        )
        assert len(loads) == 1, logs
        assert session.execute(select(func.count()).select_from(ScheduledLoadRun)).scalar_one() == 1
        runs = session.execute(select(MonitorRun).order_by(MonitorRun.started_at)).scalars().all()
    # P1's runs all ended before it was killed; P2's all began after.
    assert all(r.finished_at <= killed_at for r in runs if r.runner == "P1")
    assert all(r.started_at >= killed_at for r in runs if r.runner == "P2")
    # Each monitor's runs never overlap, whichever process ran them.
    by_monitor: dict[str, list[MonitorRun]] = {}
    for run in runs:
        by_monitor.setdefault(run.monitor, []).append(run)
    for monitor_runs in by_monitor.values():
        for earlier, later in itertools.pairwise(monitor_runs):
            assert earlier.finished_at <= later.started_at, logs


# -- failover at any hour ---------------------------------------------------------------------


def test_scheduled_loads_run_hourly_so_a_takeover_at_any_hour_makes_the_days_loads():
    (loads,) = [j for j in JOBS if j.name == "scheduled_loads"]
    assert (loads.every_seconds, loads.daily_at) == (3600, None)


def test_a_scheduler_that_takes_the_lease_over_runs_every_job_soon(committed):
    clock = FixedClock(datetime(2026, 4, 8, 4, 59, 50, tzinfo=UTC))
    a, b = (
        Lease(committed, clock, "A", TTL, database_time=False),
        Lease(committed, clock, "B", TTL, database_time=False),
    )
    assert a.renew()
    scheduler = build(JobRunner(committed, clock, b), JOBS, renew_seconds=10)  # not started
    assert not b.renew()
    clock.advance(seconds=60)
    assert a.renew()  # B has been waiting a minute while A ran the jobs
    clock.advance(seconds=40)  # A died just before 05:00; B takes over at 05:00:30
    assert b.renew()
    soon = clock.now() + timedelta(seconds=1)
    assert {job.id: job.next_run_time for job in scheduler.get_jobs() if job.id != "lease"} == {
        job.name: soon for job in JOBS
    }


# -- one clock for every scheduler: the database's -------------------------------------------


def test_a_scheduler_whose_clock_runs_fast_cannot_take_a_live_lease(committed):
    real = SystemClock()
    a = Lease(committed, real, "A", TTL)
    fast = Lease(committed, FixedClock(real.now() + timedelta(minutes=5)), "B", TTL)
    assert a.renew()
    assert not fast.renew()  # its clock says A's lease ran out minutes ago; the database's not
    assert a.held and not fast.held
    with committed() as session:
        lease = session.get(SchedulerLease, "scheduler")
        assert lease.holder == "A"
        # What was written is the database's time, not either machine's clock.
        assert abs(lease.expires_at - (real.now() + TTL)) < timedelta(seconds=5)


def test_a_scheduler_whose_clock_runs_slow_does_not_keep_an_expired_lease(committed):
    real = SystemClock()
    slow = Lease(committed, FixedClock(real.now() - timedelta(minutes=5)), "A", TTL)
    assert slow.renew()
    with committed() as session, session.begin():
        # A stopped renewing 31 s ago (by the database's time).
        lease = session.get(SchedulerLease, "scheduler")
        lease.expires_at = repo.database_now(session) - timedelta(seconds=1)
    b = Lease(committed, real, "B", TTL)
    assert b.renew()
    with committed() as session, pytest.raises(LeaseLost):
        slow.fence(session)
