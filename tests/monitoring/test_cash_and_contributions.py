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


def test_the_grace_period_ends_at_midnight_london_time(session, clock):
    world = World(session, clock)
    on_time = world.case(contribution=5000, load=95000)
    late = world.case(contribution=5000, load=95000)
    # Period 0 ends on 3 May; with 14 days' grace a payment by the end of 17 May (London
    # time) counts for it. 22:30 UTC on 17 May is 23:30 in London; 23:30 UTC is 00:30 on
    # 18 May.
    world.contribute(on_time, 5000, at(date(2026, 5, 17), 22, 30))
    world.contribute(late, 5000, at(date(2026, 5, 17), 23, 30))
    clock.current = at(date(2026, 5, 18))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert (hit.subject_id, hit.figures["period_index"]) == (late.plan.id, 0)
    assert "had been paid in by 17 May 2026" in hit.explanation


def test_contribution_paid_within_the_grace_period_is_not_missed(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    # Period 0 is 6 Apr - 3 May; the standing order arrives on 6 May, well within 14 days'
    # grace, and is counted for period 0 although it arrived in period 1.
    world.contribute(case, 5000, at(date(2026, 5, 6), 10))
    clock.current = at(date(2026, 5, 18))
    assert run_monitor(session, clock, "missed_contribution").hits == []
    # Period 1 (4 - 31 May) then has nothing of its own: by 14 June it is missed.
    clock.current = at(date(2026, 6, 15))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert hit.figures["period_index"] == 1
    assert (hit.figures["expected"], hit.figures["received"]) == (10000, 5000)


def test_a_late_payment_each_period_is_never_missed(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    for day in (date(2026, 5, 8), date(2026, 6, 5), date(2026, 7, 3)):
        world.contribute(case, 5000, at(day, 9))  # five days into the next period, each time
    clock.current = at(date(2026, 7, 13))
    assert run_monitor(session, clock, "missed_contribution").hits == []


def test_catching_up_clears_the_shortfall_and_the_run_of_misses(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    clock.current = at(date(2026, 5, 18))
    (first,) = run_monitor(session, clock, "missed_contribution").hits  # period 0 missed
    assert first.severity is Severity.LOW
    # Both periods' contributions are paid in period 1: period 1 is not missed.
    world.contribute(case, 10000, at(date(2026, 5, 20), 9))
    clock.current = at(date(2026, 6, 15))
    result = run_monitor(session, clock, "missed_contribution")
    assert [h.figures["period_index"] for h in result.hits] == [0]  # seen before
    assert result.raised.new_evidence == 0
    # Period 2 is missed: a new run of misses starts at one, not three.
    clock.current = at(date(2026, 7, 13))
    hits = run_monitor(session, clock, "missed_contribution").hits
    assert [(h.figures["period_index"], h.figures["consecutive"]) for h in hits] == [
        (0, 1),
        (2, 1),
    ]
    (flag,) = flags_of(session, "missed_contribution")
    assert flag.severity is Severity.LOW and flag.hits == 2


def test_a_partial_catch_up_leaves_the_running_shortfall(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    world.contribute(case, 2000, at(date(2026, 4, 20), 9))
    world.contribute(case, 5000, at(date(2026, 5, 20), 9))
    clock.current = at(date(2026, 6, 15))
    found = run_monitor(session, clock, "missed_contribution").hits
    # Period 0: £20 of £50. Period 1: £70 of £100, still £30 short: two in a row.
    assert [(h.figures["period_index"], h.figures["short"]) for h in found] == [
        (0, 3000),
        (1, 3000),
    ]
    assert found[1].figures["consecutive"] == 2


def test_councils_that_invoice_contributions_do_not_see_this_monitor(session, clock):
    world = World(session, clock)
    world.case(contribution=5000, load=95000)
    set_setting(session, clock, "loads_net_of_contribution", False, officer="lead", reason="gross")
    clock.current = at(date(2026, 6, 1))
    assert run_monitor(session, clock, "missed_contribution").hits == []


def test_a_returned_contribution_does_not_count_as_paid(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    paid = world.contribute(case, 5000, at(date(2026, 4, 9), 9))
    clock.current = at(date(2026, 5, 1))  # the bank returns the standing order
    world.ledger.reverse(paid, source="test", key=world.key("returned"))
    clock.current = at(date(2026, 5, 18))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert (hit.figures["expected"], hit.figures["received"]) == (5000, 0)


def test_a_return_recorded_after_a_run_is_seen_by_the_next_run(session, clock):
    world = World(session, clock)
    case = world.case(contribution=5000, load=95000)
    paid = world.contribute(case, 5000, at(date(2026, 4, 9), 9))
    clock.current = at(date(2026, 5, 18))
    assert run_monitor(session, clock, "missed_contribution").hits == []
    # A statement brings, the next day, a return made on 15 May, before the deadline.
    clock.current = at(date(2026, 5, 15))
    world.ledger.reverse(paid, source="test", key=world.key("returned"))
    clock.current = at(date(2026, 5, 19))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert (hit.subject_id, hit.figures["received"]) == (case.plan.id, 0)


def test_a_plan_agreed_after_a_run_is_checked_by_the_next_run(session, clock):
    world = World(session, clock)
    first = world.case(contribution=5000, load=95000)
    world.contribute(first, 5000, at(date(2026, 4, 9), 9))
    clock.current = at(date(2026, 5, 18))
    assert run_monitor(session, clock, "missed_contribution").hits == []
    later = world.case(contribution=5000, load=95000)  # backdated to 6 April, nothing paid
    clock.current = at(date(2026, 5, 19))
    (hit,) = run_monitor(session, clock, "missed_contribution").hits
    assert hit.subject_id == later.plan.id


def test_a_run_with_nothing_new_looks_at_no_plan(session, clock):
    world = World(session, clock)
    world.case(contribution=5000, load=95000)
    clock.current = at(date(2026, 5, 18))
    assert len(run_monitor(session, clock, "missed_contribution").hits) == 1
    clock.current = at(date(2026, 5, 19))
    assert run_monitor(session, clock, "missed_contribution").hits == []  # nothing changed
    set_setting(session, clock, "contribution_grace_days", 13, officer="lead", reason="policy")
    clock.current = at(date(2026, 5, 20))
    assert len(run_monitor(session, clock, "missed_contribution").hits) == 1  # all again
