"""Possible financial abuse: rapid drain, spend after death or in hospital, payments to a
household family member, a sudden change of pattern, companion spending out of
proportion, and cash at unusual hours."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.enrolment import PlanLineSpec
from ledger.models import PlanCategory, TransferCode
from monitoring.life_events import LifeEvents
from monitoring.models import Severity
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at


def hits(session, clock, name):
    return run_monitor(session, clock, name).hits


# -- rapid drain ----------------------------------------------------------------------------


def test_more_than_80_percent_within_48_hours_of_a_load(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000)
    load = world.load(case, 50000, at(START, 6))
    world.spend(case.card, 30000, at(START, 20))
    world.cash(case.card, 10001, at(START + timedelta(days=2), 5))  # 47 hours after
    (hit,) = hits(session, clock, "rapid_drain")
    assert hit.severity is Severity.HIGH and hit.transfer_ids == (load,)
    assert "80%" in hit.title and "£500.00" in hit.explanation


def test_80_percent_or_spend_after_48_hours_is_not_a_drain(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000)
    world.load(case, 50000, at(START, 6))
    world.spend(case.card, 40000, at(START, 20))  # exactly 80%
    world.spend(case.card, 5000, at(START + timedelta(days=2), 7))  # 49 hours after
    assert hits(session, clock, "rapid_drain") == []


def test_paying_the_agreed_agency_after_a_load_is_not_a_drain(session, clock):
    world = World(session, clock)
    case = world.case(
        [PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 50000, agreed_payees=("Brightwell",))],
        budget=50000,
    )
    world.load(case, 50000, at(START, 6))
    world.pay(case, 48000, at(START, 9), "Brightwell", TransferCode.DIRECT_DEBIT)
    assert hits(session, clock, "rapid_drain") == []
    world.load(case, 50000, at(START + timedelta(days=28), 6))
    world.pay(case, 48000, at(START + timedelta(days=28), 9), "J Smith")
    assert len(hits(session, clock, "rapid_drain")) == 1


def test_a_drain_noticed_on_a_later_run_is_still_raised_once(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000)
    world.load(case, 50000, at(START, 6))
    world.spend(case.card, 20000, at(START, 8))
    assert hits(session, clock, "rapid_drain") == []
    world.spend(case.card, 25000, at(START + timedelta(days=1), 8))
    assert len(hits(session, clock, "rapid_drain")) == 1
    assert run_monitor(session, clock, "rapid_drain").raised.new_evidence == 0


def test_a_load_is_watched_for_its_whole_window_across_many_runs(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000)
    world.load(case, 50000, at(START, 6))
    for when in (at(START, 7), at(START + timedelta(days=3), 7)):
        clock.current = when
        assert hits(session, clock, "rapid_drain") == []
    load = world.load(case, 60000, at(START + timedelta(days=3), 8))
    clock.current = at(START + timedelta(days=3), 9)
    assert hits(session, clock, "rapid_drain") == []
    world.spend(case.card, 100000, at(START + timedelta(days=4), 8))
    clock.current = at(START + timedelta(days=4), 10)
    (hit,) = hits(session, clock, "rapid_drain")
    assert hit.transfer_ids == (load,)


# -- spend after death or during a hospital stay --------------------------------------------


def test_spend_after_death_is_critical_and_spend_before_is_not_flagged(session, clock):
    world = World(session, clock)
    case = world.case(load=100000, companion=True)
    world.load(case, 10000, at(START, 7), pot=10000)
    world.spend(case.card, 1000, at(date(2026, 4, 20), 10))
    LifeEvents(session, clock).death(case.person.id, date(2026, 4, 20), officer="o1", note="GP")
    after = world.spend(case.card, 2000, at(date(2026, 4, 21), 10))
    companion = world.spend(case.companion_card, 500, at(date(2026, 4, 22), 10), mcc="5411")
    found = hits(session, clock, "life_event_spend")
    assert {h.transfer_ids[0] for h in found} == {after, companion}
    assert all(h.severity is Severity.CRITICAL for h in found)
    assert "after the person's death on 20 April 2026" in found[0].explanation


def test_spend_in_hospital_is_flagged_only_beyond_the_grace_period(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    events = LifeEvents(session, clock)
    events.hospital_admission(case.person.id, date(2026, 4, 10), officer="o1", note="A&E")
    world.spend(case.card, 1000, at(date(2026, 4, 24), 10))  # day 14: within grace
    late = world.spend(case.card, 1000, at(date(2026, 4, 25), 10))  # day 15
    events.hospital_discharge(case.person.id, date(2026, 4, 28), officer="o1", note="Home")
    world.spend(case.card, 1000, at(date(2026, 4, 29), 10))  # after discharge
    (hit,) = hits(session, clock, "life_event_spend")
    assert hit.transfer_ids == (late,) and hit.severity is Severity.MEDIUM


# -- household family members ---------------------------------------------------------------


def test_payment_to_a_household_carer_without_an_agreed_exception(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    son = world.enrol.register_person("HH-1", "Paul Adams")
    world.enrol.record_caring(son, case.person, "son", shares_household=True)
    paid = world.pay(case, 20000, at(START + timedelta(days=2)), "paul adams ")
    (hit,) = hits(session, clock, "household_payee")
    assert hit.transfer_ids == (paid,) and "the person's son" in hit.explanation


def test_agreed_exception_or_separate_household_is_not_flagged(session, clock):
    world = World(session, clock)
    agreed = world.case(
        [PlanLineSpec(PlanCategory.PA_WAGES, "Daughter as PA", 100000, agreed_payees=("Ann Lee",))],
        load=100000,
    )
    daughter = world.enrol.register_person("HH-2", "Ann Lee")
    world.enrol.record_caring(daughter, agreed.person, "daughter", shares_household=True)
    world.pay(agreed, 20000, at(START + timedelta(days=2)), "Ann Lee")
    apart = world.case(load=100000)
    niece = world.enrol.register_person("HH-3", "Kim Ray")
    world.enrol.record_caring(niece, apart.person, "niece", shares_household=False)
    world.pay(apart, 20000, at(START + timedelta(days=2)), "Kim Ray")
    assert hits(session, clock, "household_payee") == []


# -- the person's own pattern -----------------------------------------------------------------


def test_a_sudden_jump_from_the_persons_own_pattern(session, clock):
    world = World(session, clock)
    case = world.case(budget=100000, load=500000)
    for period in range(3):
        world.spend(case.card, 10000, at(START + timedelta(weeks=4 * period, days=3)))
    world.spend(case.card, 29000, at(START + timedelta(weeks=12, days=3)))
    clock.current = at(START + timedelta(weeks=12, days=4))
    assert hits(session, clock, "pattern_change") == []  # under 3x the usual £100
    world.spend(case.card, 2000, at(START + timedelta(weeks=12, days=4)))
    (hit,) = hits(session, clock, "pattern_change")
    assert "£310.00" in hit.explanation and "£100.00" in hit.explanation


def test_no_pattern_without_three_periods_of_history(session, clock):
    world = World(session, clock)
    case = world.case(budget=100000, load=500000)
    world.spend(case.card, 1000, at(START + timedelta(days=3)))
    world.spend(case.card, 90000, at(START + timedelta(weeks=4, days=3)))
    clock.current = at(START + timedelta(weeks=5))
    assert hits(session, clock, "pattern_change") == []


# -- companion spending -------------------------------------------------------------------------


def test_companion_spending_out_of_proportion(session, clock):
    world = World(session, clock)
    case = world.case(load=100000, companion=True)
    world.load(case, 50000, at(START, 7), pot=50000)
    world.spend(case.card, 9000, at(START + timedelta(days=1)))
    world.spend(case.companion_card, 9000, at(START + timedelta(days=2)), mcc="5411")
    assert hits(session, clock, "companion_share") == []  # exactly half
    world.spend(case.companion_card, 2000, at(START + timedelta(days=3)), mcc="5411")
    (hit,) = hits(session, clock, "companion_share")
    assert "£110.00 of the £200.00" in hit.explanation


# -- cash at unusual hours ----------------------------------------------------------------------


def test_three_cash_withdrawals_between_midnight_and_five_in_london(session, clock):
    world = World(session, clock)
    case = world.case(cash=100000, load=200000)
    # 23:30 UTC in May is 00:30 in London (BST); 04:30 UTC is 05:30, not unusual.
    world.cash(case.card, 1000, at(date(2026, 5, 1), 23, 30))
    world.cash(case.card, 1000, at(date(2026, 5, 5), 4, 30))
    world.cash(case.card, 1000, at(date(2026, 5, 9), 12, 0))
    world.cash(case.card, 1000, at(date(2026, 5, 10), 1, 0))
    clock.current = at(date(2026, 5, 11))
    assert hits(session, clock, "unusual_hours_cash") == []
    third = world.cash(case.card, 1000, at(date(2026, 5, 12), 2, 0))
    clock.current = at(date(2026, 5, 13))
    (hit,) = hits(session, clock, "unusual_hours_cash")
    assert len(hit.transfer_ids) == 3 and hit.transfer_ids[-1] == third


# -- deaths and admissions recorded after the fact ------------------------------------------


def test_death_recorded_late_still_flags_spend_after_it(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 1500, at(date(2026, 4, 20), 10))  # on the day of death
    after = world.spend(case.card, 2000, at(date(2026, 4, 21), 10))
    clock.current = at(date(2026, 4, 21), 12)
    assert hits(session, clock, "life_event_spend") == []
    # The death (on 20 April) is reported a few days later, after the run above.
    clock.current = at(date(2026, 4, 24), 9)
    LifeEvents(session, clock).death(case.person.id, date(2026, 4, 20), officer="o1", note="GP")
    found = hits(session, clock, "life_event_spend")
    assert [h.transfer_ids[0] for h in found] == [after]
    assert found[0].severity is Severity.CRITICAL
    # Looked at once: the next run has no new life event and no new transfer.
    assert run_monitor(session, clock, "life_event_spend").hits == []


def test_hospital_admission_recorded_late_still_flags(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 1000, at(date(2026, 4, 24), 10))  # day 14: within the grace
    late = world.spend(case.card, 1000, at(date(2026, 4, 26), 10))
    clock.current = at(date(2026, 4, 26), 12)
    assert hits(session, clock, "life_event_spend") == []
    LifeEvents(session, clock).hospital_admission(
        case.person.id, date(2026, 4, 10), officer="o1", note="A&E"
    )
    (hit,) = hits(session, clock, "life_event_spend")
    assert hit.transfer_ids == (late,) and hit.severity is Severity.MEDIUM


def test_bank_payments_after_death_are_critical(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    LifeEvents(session, clock).death(case.person.id, date(2026, 4, 20), officer="o1", note="GP")
    before = world.pay(case, 3000, at(date(2026, 4, 20), 9), "Brightwell Care")
    after = world.pay(case, 4000, at(date(2026, 4, 22), 9), "J Smith", TransferCode.STANDING_ORDER)
    (hit,) = hits(session, clock, "life_event_spend")
    assert hit.transfer_ids == (after,) and before not in hit.transfer_ids
    assert hit.severity is Severity.CRITICAL
    assert (hit.subject_type, hit.subject_id) == ("account", case.budget.id)
    assert "£40.00 was paid to J Smith by standing order on 22 April 2026" in hit.explanation


def test_bank_payments_during_a_hospital_stay_are_not_flagged(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    LifeEvents(session, clock).hospital_admission(
        case.person.id, date(2026, 4, 6), officer="o1", note="A&E"
    )
    # The agency's standing order keeps the person's care in place for their return.
    world.pay(case, 3000, at(date(2026, 4, 30), 9), "Brightwell", TransferCode.STANDING_ORDER)
    assert hits(session, clock, "life_event_spend") == []
