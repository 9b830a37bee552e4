"""Scheduled loads under the scheduler: each load (or small batch) in a short transaction,
a failing plan recorded while the others carry on, and the provider told only of loads
already committed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ledger.clock import FixedClock
from ledger.ports import CardCommand, CommandOutcome
from ledger.service import Ledger
from monitoring.models import ScheduledLoadRun, ScheduledLoadStatus
from monitoring.notifications import LogSender
from monitoring.scheduled_loads import run_scheduled_loads
from monitoring.scheduler import JobRunner, Lease, default_jobs
from tests.monitoring.builders import World, at
from tests.monitoring.fakes import RecordingProvider

DUE = date(2026, 4, 8)  # a Wednesday


def runs_by_plan(session):
    return {r.plan_id: r for r in session.execute(select(ScheduledLoadRun)).scalars()}


def test_one_failing_plan_is_recorded_and_the_others_are_loaded(session, clock):
    world = World(session, clock)
    cases = [world.case(budget=50000, starts_on=DUE) for _ in range(3)]
    broken = cases[1]
    # The load's key was already used for something else: this plan's load fails.
    Ledger(session, clock).load(
        broken.budget.id, 100, source="scheduler", key=f"scheduled-load:{broken.plan.id}:{DUE}"
    )
    clock.current = at(DUE, 5)
    result = run_scheduled_loads(session, clock, RecordingProvider())
    assert sorted(load.plan_id for load in result.loaded) == [cases[0].plan.id, cases[2].plan.id]
    ((failed, why),) = result.failed
    assert failed.plan_id == broken.plan.id and "different request" in why
    runs = runs_by_plan(session)
    assert runs[broken.plan.id].status is ScheduledLoadStatus.FAILED
    assert "IdempotencyConflict" in runs[broken.plan.id].detail
    assert runs[cases[0].plan.id].status is ScheduledLoadStatus.LOADED
    # A failed load is tried again on the next run (and fails again here, still recorded).
    clock.current = at(DUE, 6)
    again = run_scheduled_loads(session, clock, RecordingProvider())
    assert [load.plan_id for load, _ in again.failed] == [broken.plan.id]
    assert again.already == 2


class CheckingProvider(RecordingProvider):
    """Checks, from its own connection, that each load it hears of is already committed
    (a plain read outside any transaction: SQLite's every transaction is a writer's)."""

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.committed_before_told: list[bool] = []

    def send(self, card_id, command, *, key, amount=None, reason=None) -> CommandOutcome:
        mark = "?" if self.engine.dialect.name == "sqlite" else "%s"
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"SELECT id FROM transfers WHERE idempotency_key = {mark}", (key,))
            self.committed_before_told.append(cursor.fetchone() is not None)
            cursor.close()
            raw.rollback()
        finally:
            raw.close()
        return super().send(card_id, command, key=key, amount=amount, reason=reason)


def loads_job(provider):
    jobs = default_jobs(lambda session: provider, LogSender())
    (job,) = [j for j in jobs if j.name == "scheduled_loads"]
    return job


def test_under_the_scheduler_loads_are_committed_before_the_provider_is_told(committed):
    clock = FixedClock(at(DUE, 5))
    with committed() as session, session.begin():
        world = World(session, clock)
        cases = [world.case(budget=50000, starts_on=DUE) for _ in range(3)]
        broken = cases[0]
        Ledger(session, clock).load(
            broken.budget.id, 100, source="scheduler", key=f"scheduled-load:{broken.plan.id}:{DUE}"
        )
    clock.current = at(DUE, 5)
    lease = Lease(committed, clock, "A", timedelta(seconds=30), database_time=False)
    assert lease.renew()
    provider = CheckingProvider(committed.kw["bind"])
    outcome = JobRunner(committed, clock, lease).run(loads_job(provider))
    assert outcome.ran, outcome.detail
    assert "2 loaded" in outcome.detail and "1 failed" in outcome.detail
    assert provider.committed_before_told == [True, True]
    with committed() as session:
        runs = runs_by_plan(session)
        assert runs[broken.plan.id].status is ScheduledLoadStatus.FAILED
        told = [runs[c.plan.id] for c in cases[1:]]
        assert all(r.status is ScheduledLoadStatus.LOADED for r in told)
        assert all(r.provider_told_at is not None and r.provider_command_id for r in told)


class FlakyProvider(RecordingProvider):
    """Its client raises (a network failure) the first ``failures`` times."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, card_id, command, *, key, amount=None, reason=None) -> CommandOutcome:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("provider unreachable")
        return super().send(card_id, command, key=key, amount=amount, reason=reason)


def test_a_load_whose_provider_was_not_told_is_told_on_the_next_run(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000, starts_on=DUE)
    clock.current = at(DUE, 5)
    provider = FlakyProvider(failures=1)
    result = run_scheduled_loads(session, clock, provider)
    assert len(result.loaded) == 1 and result.provider_not_told == 1
    run = runs_by_plan(session)[case.plan.id]
    assert run.status is ScheduledLoadStatus.LOADED and run.provider_told_at is None
    assert "provider unreachable" in run.detail
    clock.current = at(DUE + timedelta(days=1), 5)
    again = run_scheduled_loads(session, clock, provider)
    assert again.loaded == [] and again.provider_told == 1
    (told,) = provider.commands(CardCommand.LOAD)
    assert told.key == f"scheduled-load:{case.plan.id}:{DUE}" and told.amount == 50000
    assert run.provider_told_at is not None and run.detail is None


def test_a_job_that_lost_the_lease_keeps_the_loads_it_committed(committed):
    clock = FixedClock(datetime(2026, 4, 8, 4, 0, tzinfo=UTC))
    with committed() as session, session.begin():
        world = World(session, clock)
        world.case(budget=50000, starts_on=DUE)
    clock.current = at(DUE, 5)
    lease = Lease(committed, clock, "A", timedelta(seconds=30), database_time=False)
    assert lease.renew()

    class StallingProvider(RecordingProvider):
        def send(self, card_id, command, *, key, amount=None, reason=None) -> CommandOutcome:
            clock.advance(seconds=45)  # A stalls past its lease while telling the provider
            return super().send(card_id, command, key=key, amount=amount, reason=reason)

    outcome = JobRunner(committed, clock, lease).run(loads_job(StallingProvider()))
    assert not outcome.ran and "rolled back" in outcome.detail
    with committed() as session:
        (run,) = session.execute(select(ScheduledLoadRun)).scalars().all()
        # The load itself was committed before the provider was called.
        assert run.status is ScheduledLoadStatus.LOADED and run.provider_told_at is None
    # The next holder tells the provider, under the load's key.
    other = Lease(committed, clock, "B", timedelta(seconds=30), database_time=False)
    assert other.renew()
    provider = RecordingProvider()
    assert JobRunner(committed, clock, other).run(loads_job(provider)).ran
    (told,) = provider.commands(CardCommand.LOAD)
    assert told.key == f"scheduled-load:{run.plan_id}:{DUE}"
