"""Cash beyond the agreed share, and missed client contributions."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from monitoring.models import Flag, FlagEvidence, Notification, Severity
from monitoring.runner import run_monitor
from monitoring.settings import set_setting
from tests.monitoring.builders import START, World, at

# Plan periods of 4 weeks from Monday 6 April 2026: period 0 is 6 Apr - 3 May,
# period 1 is 4 - 31 May, period 2 is 1 - 28 June.


def flags_of(session, monitor):
    return session.execute(select(Flag).where(Flag.monitor == monitor)).scalars().all()


# -- cash ---------------------------------------------------------------------------------------


def test_cash_up_to_the_agreed_share_raises_nothing(session, clock):
    world = World(session, clock)
    case = world.case(cash=2000, load=100000)
    world.cash(case.card, 1500, at(START + timedelta(days=2)))
    world.cash(case.card, 500, at(START + timedelta(days=20)))
    assert run_monitor(session, clock, "cash_beyond_share").hits == []


def test_cash_beyond_the_share_in_a_period_is_flagged(session, clock):
    world = World(session, clock)
    case = world.case(cash=2000, load=100000)
    world.cash(case.card, 1500, at(START + timedelta(days=2)))
    last = world.cash(case.card, 600, at(START + timedelta(days=20)))
    run_monitor(session, clock, "cash_beyond_share")
    (flag,) = flags_of(session, "cash_beyond_share")
    assert flag.severity is Severity.MEDIUM and flag.subject_id == case.plan.id
    assert "£21.00" in flag.explanation and "£20.00" in flag.explanation
    assert str(last) in flag.explanation


def test_cash_in_two_periods_is_counted_per_period_across_the_bst_boundary(session, clock):
    world = World(session, clock)
    case = world.case(cash=2000, load=100000)
    world.cash(case.card, 1500, at(date(2026, 5, 3), 22, 59))  # 23:59 on 3 May, period 0
    world.cash(case.card, 1500, at(date(2026, 5, 3), 23, 1))  # 00:01 on 4 May, period 1
    assert run_monitor(session, clock, "cash_beyond_share").hits == []


def test_any_cash_when_the_plan_agrees_none_is_high(session, clock):
    world = World(session, clock)
    case = world.case(cash=0, load=100000)
    world.cash(case.card, 100, at(START + timedelta(days=1)))
    (hit,) = run_monitor(session, clock, "cash_beyond_share").hits
    assert hit.severity is Severity.HIGH and "agrees no cash" in hit.explanation


# -- client contributions -----------------------------------------------------------------------


def test_a_contribution_paid_in_full_raises_nothing(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000, email="p@example.org")
    world.contribute(case, 5000, at(START + timedelta(days=3)))
    clock.current = at(date(2026, 6, 1))
    assert run_monitor(session, clock, "missed_contribution").hits == []


def test_nothing_is_flagged_before_the_grace_period_ends(session, clock):
    world = World(session, clock)
    world.case(contribution=5000, load=95000)
    clock.current = at(date(2026, 5, 17))  # period 0 ended 3 May; grace of 14 days
    assert run_monitor(session, clock, "missed_contribution").hits == []
    clock.current = at(date(2026, 5, 18))
    assert len(run_monitor(session, clock, "missed_contribution").hits) == 1


def test_a_short_contribution_is_flagged_and_the_holder_and_officer_are_told(session, clock):
    world = World(session, clock)
    set_setting(
        session, clock, "officer_email", "team@council.example", officer="lead", reason="setup"
    )
    case = world.case(contribution=5000, load=95000, email="person@example.org")
    world.contribute(case, 3000, at(START + timedelta(days=3)))
    clock.current = at(date(2026, 5, 18))
    run_monitor(session, clock, "missed_contribution")
    (flag,) = flags_of(session, "missed_contribution")
    assert flag.severity is Severity.LOW
    assert "£30.00 of the expected contribution of £50.00" in flag.explanation
    messages = session.execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert {(m.audience, m.to_address) for m in messages} == {
        ("holder", "person@example.org"),
        ("officer", "team@council.example"),
    }
    holder = next(m for m in messages if m.audience == "holder")
    assert "£20.00 is still to be paid" in holder.body and "please get in touch" in holder.body


def test_consecutive_misses_raise_the_severity_of_the_one_open_flag(session, clock):
    world = World(session, clock)
    world.case(contribution=5000, load=95000)
    clock.current = at(date(2026, 5, 18))
    run_monitor(session, clock, "missed_contribution")
    clock.current = at(date(2026, 6, 15))
    run_monitor(session, clock, "missed_contribution")
    clock.current = at(date(2026, 7, 13))
    run_monitor(session, clock, "missed_contribution")
    (flag,) = flags_of(session, "missed_contribution")
    assert flag.severity is Severity.HIGH and flag.hits == 3
    evidence = session.execute(select(FlagEvidence).order_by(FlagEvidence.id)).scalars().all()
    assert [e.figures["consecutive"] for e in evidence] == [1, 2, 3]
    again = run_monitor(session, clock, "missed_contribution")
    assert again.raised.new_evidence == 0


def test_a_contribution_late_at_night_counts_in_the_london_period(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    # 23:30 UTC on 3 May is 00:30 on 4 May in London: period 1, so period 0 is missed.
    world.contribute(case, 5000, at(date(2026, 5, 3), 23, 30))
    clock.current = at(date(2026, 5, 18))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert hit.figures["period_index"] == 0


def test_councils_that_invoice_contributions_do_not_see_this_monitor(session, clock):
    world = World(session, clock)
    world.case(contribution=5000, load=95000)
    set_setting(session, clock, "loads_net_of_contribution", False, officer="lead", reason="gross")
    clock.current = at(date(2026, 6, 1))
    assert run_monitor(session, clock, "missed_contribution").hits == []
