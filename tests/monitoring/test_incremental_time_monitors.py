"""Time-based monitors look only at what may have changed: arrears at accounts with a new
shortfall, surplus at budgets money moved on (or plans in a new period), and employer
duties in one statement whatever the number of plans."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from monitoring.monitors.employer_duties import EmployerDutiesMonitor
from monitoring.repositories import plans as plans_repo
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at
from tests.monitoring.test_duties_reviews_and_records import PA_PLAN


def test_arrears_looks_only_at_accounts_with_a_new_shortfall(session, clock):
    world = World(session, clock)
    first = world.case(load=1000)
    second = world.case(load=1000)
    world.ledger.record_clearing(first.card.id, 1500, source="t", key="force-1", mcc="8050")
    (hit,) = run_monitor(session, clock, "arrears").hits
    assert hit.subject_id == first.budget.id
    assert run_monitor(session, clock, "arrears").hits == []  # nothing new: nothing looked at
    world.ledger.record_clearing(second.card.id, 2000, source="t", key="force-2", mcc="8050")
    (hit,) = run_monitor(session, clock, "arrears").hits
    assert hit.subject_id == second.budget.id
    # --since looks at every shortfall from that day again (and raises nothing new).
    again = run_monitor(session, clock, "arrears", since=START)
    assert len(again.hits) == 2 and again.raised.new_evidence == 0


def test_surplus_looks_at_budgets_money_moved_on_and_plans_in_a_new_period(session, clock):
    world = World(session, clock)
    moved = world.case(budget=40000, load=200000)
    still = world.case(budget=40000, load=200000)
    clock.current = at(START + timedelta(days=1))
    assert len(run_monitor(session, clock, "surplus").hits) == 2  # a first run: every plan
    clock.current = at(START + timedelta(days=1), 14)
    assert run_monitor(session, clock, "surplus").hits == []  # nothing moved
    world.spend(moved.card, 1000, at(START + timedelta(days=2)))
    clock.current = at(START + timedelta(days=2), 14)
    assert [h.subject_id for h in run_monitor(session, clock, "surplus").hits] == [moved.plan.id]
    clock.current = at(START + timedelta(days=29))  # period 1 for both
    result = run_monitor(session, clock, "surplus")
    assert sorted(h.subject_id for h in result.hits) == sorted([moved.plan.id, still.plan.id])
    assert result.raised.new_evidence == 2
    assert len(run_monitor(session, clock, "surplus", since=START).hits) == 2


def test_employer_duties_run_one_statement_whatever_the_number_of_plans(
    session, clock, monkeypatch
):
    # Chunks of two: a query per chunk of budgets would show at once.
    monkeypatch.setattr(plans_repo, "CHUNK", 2, raising=False)
    seen: list[str] = []
    find = EmployerDutiesMonitor.find

    def counted(self, ctx):  # the monitor's own statements, not the run's bookkeeping
        def count(conn, cursor, statement, *args) -> None:
            seen.append(statement)

        connection = ctx.session.connection()
        event.listen(connection, "before_cursor_execute", count)
        try:
            return find(self, ctx)
        finally:
            event.remove(connection, "before_cursor_execute", count)

    monkeypatch.setattr(EmployerDutiesMonitor, "find", counted)
    world = World(session, clock)
    world.case(PA_PLAN, load=500000)
    clock.current = at(START + timedelta(days=120))
    assert len(run_monitor(session, clock, "employer_duties").hits) == 2
    one_plan, seen[:] = len(seen), []
    for _ in range(5):
        world.case(PA_PLAN, load=500000)
    clock.current = at(START + timedelta(days=120))
    assert len(run_monitor(session, clock, "employer_duties").hits) == 12
    assert len(seen) == one_plan == 2  # one statement per duty
