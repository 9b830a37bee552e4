"""Running monitors: every monitor runs on both databases, re-runs raise nothing new,
dry runs change nothing, and --since re-examines without duplicating."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ledger.enrolment import PlanLineSpec
from ledger.errors import UnknownRecord
from ledger.models import PlanCategory
from monitoring.models import Flag, FlagEvidence, MonitorRun, MonitorWatermark
from monitoring.monitors import ALL_MONITORS
from monitoring.runner import run_all, run_monitor
from tests.monitoring.builders import START, World, at


def busy_world(session, clock):
    world = World(session, clock)
    a = world.case(
        [
            PlanLineSpec(PlanCategory.PA_WAGES, "PA", 60000, agreed_payees=("Sam PA",)),
            PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", 10000),
        ],
        budget=70000,
        contribution=5000,
        cash=2000,
        load=70000,
        companion=True,
    )
    world.load(a, 70000, at(START + timedelta(weeks=4), 6), pot=20000)
    world.spend(a.card, 15000, at(START + timedelta(days=1)), mcc="4121")
    world.spend(a.card, 2000, at(START + timedelta(days=2)), mcc="7995")
    world.cash(a.card, 5000, at(START + timedelta(days=3), 2))
    world.pay(a, 50000, at(START + timedelta(days=4)), "Sam PA")
    world.spend(a.companion_card, 15000, at(START + timedelta(weeks=4, days=1)), mcc="5411")
    b = world.case(budget=50000, load=50000 * 6, review_date=START + timedelta(weeks=6))
    world.spend(b.card, 100, at(START + timedelta(days=1)))
    clock.current = at(START + timedelta(weeks=9))
    return world, a, b


def evidence_count(session):
    return session.execute(select(func.count()).select_from(FlagEvidence)).scalar_one()


def test_every_monitor_runs_and_a_rerun_raises_nothing_new(session, clock):
    busy_world(session, clock)
    first = run_all(session, clock)
    assert {r.monitor for r in first} == {m.name for m in ALL_MONITORS}
    raised = {r.monitor for r in first if r.raised.new_evidence}
    assert {"spend_outside_plan", "cash_beyond_share", "missed_contribution", "surplus"} <= raised
    count = evidence_count(session)
    again = run_all(session, clock)
    assert sum(r.raised.new_evidence for r in again) == 0
    assert sum(r.raised.new_flags for r in again) == 0
    assert evidence_count(session) == count
    # Re-examining everything from the start rebuilds the totals and still adds nothing,
    # as a dry run (each monitor recounting in its own savepoint) and for real.
    dry = run_all(session, clock, since=START, dry_run=True)
    assert [len(r.hits) for r in dry] == [len(r.hits) for r in run_all(session, clock, since=START)]
    since = run_all(session, clock, since=START)
    assert sum(r.raised.new_evidence for r in since) == 0
    assert evidence_count(session) == count


def test_a_dry_run_reports_hits_and_changes_nothing(session, clock):
    busy_world(session, clock)
    result = run_monitor(session, clock, "spend_outside_plan", dry_run=True)
    assert result.hits and result.raised.new_flags
    assert session.execute(select(func.count()).select_from(Flag)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(MonitorRun)).scalar_one() == 0
    assert session.get(MonitorWatermark, "spend_outside_plan") is None
    real = run_monitor(session, clock, "spend_outside_plan")
    assert real.raised.new_flags == result.raised.new_flags


def test_the_watermark_moves_and_each_run_is_logged(session, clock):
    world, a, _ = busy_world(session, clock)
    first = run_monitor(session, clock, "spend_outside_plan")
    assert first.from_transfer_id == 0 and first.to_transfer_id > 0
    world.spend(a.card, 100, at(START + timedelta(weeks=9)), mcc="5912")
    second = run_monitor(session, clock, "spend_outside_plan")
    assert second.from_transfer_id == first.to_transfer_id
    assert len(second.hits) == 1
    runs = session.execute(select(MonitorRun).order_by(MonitorRun.id)).scalars().all()
    assert [r.hits for r in runs] == [len(first.hits), 1]


def test_an_unknown_monitor_is_a_clear_error(session, clock):
    with pytest.raises(UnknownRecord, match="no monitor called"):
        run_monitor(session, clock, "nope")


def test_period_totals_count_each_transfer_once_across_monitors(session, clock):
    from monitoring.models import PlanPeriodTotal

    world, a, _ = busy_world(session, clock)
    run_monitor(session, clock, "cash_beyond_share")
    run_monitor(session, clock, "surplus")
    world.cash(a.card, 700, at(START + timedelta(weeks=9), 3))
    run_monitor(session, clock, "under_spend")
    run_monitor(session, clock, "cash_beyond_share", since=date(2026, 4, 1))
    rows = (
        session.execute(select(PlanPeriodTotal).where(PlanPeriodTotal.plan_id == a.plan.id))
        .scalars()
        .all()
    )
    assert sum(r.cash for r in rows) == 5700
    assert sum(r.spend for r in rows) == 15000 + 2000 + 5000 + 50000 + 15000 + 700
    assert sum(r.companion_spend for r in rows) == 15000
    assert sum(r.contributions for r in rows) == 0
