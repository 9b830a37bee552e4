"""Surplus (with its itemised clawback proposal) and under-spend (routed to review)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ledger.models import TransferCode
from monitoring.life_events import LifeEvents
from monitoring.models import Flag, Severity, SuggestedAction
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at

# Budget £400 per 4 weeks: £100 a week; 8 weeks kept = £800; contingency 2 weeks = £200.


def test_no_flag_at_or_below_eight_weeks_after_commitments_and_contingency(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=110000)
    world.pay(case, 10000, at(START + timedelta(days=2)), "Agency", TransferCode.DIRECT_DEBIT)
    world.load(case, 10000, at(START + timedelta(days=3)))
    clock.current = at(START + timedelta(days=30))
    # 110000 held, 10000 of regular payments expected again, 20000 contingency: 80000 left.
    assert run_monitor(session, clock, "surplus").hits == []


def test_surplus_above_eight_weeks_is_flagged_with_an_itemised_proposal(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=120000, companion=True)
    world.load(case, 10000, at(START + timedelta(days=1)), pot=10000)
    world.pay(case, 10000, at(START + timedelta(days=2)), "Agency", TransferCode.DIRECT_DEBIT)
    clock.current = at(START + timedelta(days=29))
    world.ledger.authorise(
        case.card.id, 5000, source="t", key="hold", merchant_name="Shop", mcc="8050"
    )
    (hit,) = run_monitor(session, clock, "surplus").hits
    items = hit.figures
    assert items["budget_balance"] == 110000 and items["companion_pots"] == 10000
    assert items["open_holds"] == 5000 and items["committed_regular_payments"] == 10000
    assert items["contingency"] == 20000 and items["amount_kept"] == 80000
    assert items["surplus"] == 120000 - 5000 - 10000 - 20000 - 80000 == 5000
    assert items["proposed_clawback"] == 5000
    assert hit.suggested_action is SuggestedAction.CLAWBACK and hit.severity is Severity.MEDIUM
    assert "Proposed clawback: £50.00" in hit.explanation


def test_surplus_is_raised_once_per_period_while_it_lasts(session, clock):
    world = World(session, clock)
    world.case(budget=40000, load=200000)
    clock.current = at(START + timedelta(days=1))
    assert run_monitor(session, clock, "surplus").raised.new_flags == 1
    assert run_monitor(session, clock, "surplus").raised.new_evidence == 0
    clock.current = at(START + timedelta(days=29))
    result = run_monitor(session, clock, "surplus")
    assert (result.raised.new_flags, result.raised.new_evidence) == (0, 1)


def test_surplus_severity_rises_within_a_period_when_the_surplus_grows(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=110000)
    clock.current = at(START + timedelta(days=1))
    (first,) = run_monitor(session, clock, "surplus").hits  # £100 over: medium
    assert first.severity is Severity.MEDIUM
    world.load(case, 90000, at(START + timedelta(days=2)))  # now £1,000 over the £800 kept
    clock.current = at(START + timedelta(days=2), 13)
    result = run_monitor(session, clock, "surplus")
    assert result.raised.severity_raised == 1
    (flag,) = session.execute(select(Flag).where(Flag.monitor == "surplus")).scalars().all()
    assert flag.severity is Severity.HIGH and flag.hits == 2
    assert run_monitor(session, clock, "surplus").raised.new_evidence == 0


def test_low_spend_over_two_periods_suggests_a_review(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    world.spend(case.card, 10000, at(START + timedelta(days=3)))
    world.spend(case.card, 9000, at(START + timedelta(days=33)))
    clock.current = at(date(2026, 6, 2))  # period 2
    (hit,) = run_monitor(session, clock, "under_spend").hits
    assert hit.rule == "under_spend.low_spend" and hit.suggested_action is SuggestedAction.REVIEW
    assert "£190.00" in hit.explanation and "£800.00" in hit.explanation


def test_spend_of_half_the_budget_is_not_under_spend(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    world.spend(case.card, 20000, at(START + timedelta(days=3)))
    world.spend(case.card, 20000, at(START + timedelta(days=40)))
    clock.current = at(date(2026, 6, 2))
    assert run_monitor(session, clock, "under_spend").hits == []


def test_no_spend_for_four_weeks(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    world.spend(case.card, 30000, at(START + timedelta(days=1)))
    clock.current = at(START + timedelta(days=28))
    assert run_monitor(session, clock, "under_spend").hits == []
    clock.current = at(START + timedelta(days=30))
    (hit,) = run_monitor(session, clock, "under_spend").hits
    assert hit.rule == "under_spend.no_spend" and "since 7 April 2026" in hit.explanation


def test_no_unmet_need_flag_in_week_two_of_a_hospital_stay(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    clock.current = at(date(2026, 5, 25))
    LifeEvents(session, clock).hospital_admission(
        case.person.id, date(2026, 5, 17), officer="o1", note="Ward sister called"
    )
    assert run_monitor(session, clock, "under_spend").hits == []


def test_under_spend_is_flagged_again_once_a_past_stay_is_outside_the_window(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    events = LifeEvents(session, clock)
    events.hospital_admission(case.person.id, date(2026, 3, 1), officer="o1", note="Admitted")
    events.hospital_discharge(case.person.id, date(2026, 3, 20), officer="o1", note="Home")
    clock.current = at(date(2026, 6, 2))
    rules = {h.rule for h in run_monitor(session, clock, "under_spend").hits}
    assert rules == {"under_spend.low_spend", "under_spend.no_spend"}


def test_no_under_spend_flag_after_death(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=80000)
    LifeEvents(session, clock).death(case.person.id, date(2026, 4, 20), officer="o1", note="GP")
    clock.current = at(date(2026, 6, 2))
    assert run_monitor(session, clock, "under_spend").hits == []
