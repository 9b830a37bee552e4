"""Spend outside the plan: uncovered categories, blocked categories, over-allowance."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ledger.enrolment import PlanLineSpec
from ledger.models import PlanCategory
from monitoring.models import Flag, FlagEvidence, FlagStatus, Notification, Severity
from monitoring.runner import run_monitor
from monitoring.settings import set_setting
from tests.monitoring.builders import START, World, at

NAME = "spend_outside_plan"


def flags(session, rule=None):
    query = select(Flag).where(Flag.monitor == NAME)
    if rule:
        query = query.where(Flag.rule == f"{NAME}.{rule}")
    return session.execute(query.order_by(Flag.id)).scalars().all()


def test_spend_a_plan_line_covers_raises_nothing(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 5000, at(START + timedelta(days=1)), mcc="8050")
    result = run_monitor(session, clock, NAME)
    assert result.hits == []
    assert flags(session) == []


def test_spend_in_a_category_no_line_covers_is_flagged_with_its_evidence(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    tid = world.spend(case.card, 2499, at(START + timedelta(days=2)), mcc="5912", merchant="Boots")
    run_monitor(session, clock, NAME)
    (flag,) = flags(session, "not_in_plan")
    assert (flag.subject_type, flag.subject_id, flag.person_id) == (
        "card",
        case.card.id,
        case.person.id,
    )
    assert flag.status is FlagStatus.OPEN and flag.severity is Severity.LOW
    assert "£24.99" in flag.explanation and "Boots" in flag.explanation
    (evidence,) = session.execute(select(FlagEvidence)).scalars().all()
    assert evidence.transfer_ids == [tid]


def test_a_line_that_lists_the_merchant_category_covers_it(session, clock):
    world = World(session, clock)
    case = world.case(
        [
            PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 80000),
            PlanLineSpec(
                PlanCategory.EQUIPMENT, "Chemist items", 20000, merchant_categories=("5912",)
            ),
        ],
        load=100000,
    )
    world.spend(case.card, 2499, at(START + timedelta(days=2)), mcc="5912")
    run_monitor(session, clock, NAME)
    assert flags(session) == []


def test_blocked_category_is_high_and_unknown_mcc_is_left_alone(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 1000, at(START + timedelta(days=1)), mcc="7995", merchant="Bookmaker")
    world.spend(case.card, 1000, at(START + timedelta(days=1)), mcc="1234", merchant="Unknown")
    run_monitor(session, clock, NAME)
    (flag,) = flags(session)
    assert flag.rule == f"{NAME}.blocked_category" and flag.severity is Severity.HIGH


def test_rerun_raises_nothing_new_and_new_spend_adds_evidence_to_the_open_flag(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 1000, at(START + timedelta(days=1)), mcc="5912")
    first = run_monitor(session, clock, NAME)
    assert first.raised.new_flags == 1
    again = run_monitor(session, clock, NAME)
    assert again.hits == [] and again.raised.new_evidence == 0
    again = run_monitor(session, clock, NAME, since=START)
    assert len(again.hits) == 1 and again.raised.new_evidence == 0
    world.spend(case.card, 1500, at(START + timedelta(days=3)), mcc="7230")
    later = run_monitor(session, clock, NAME)
    assert later.raised.new_flags == 0 and later.raised.new_evidence == 1
    (flag,) = flags(session)
    assert flag.hits == 2


def test_line_over_its_allowance_in_one_period_but_not_the_next(session, clock):
    world = World(session, clock)
    case = world.case(
        [
            PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 60000),
            PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", 10000),
        ],
        budget=70000,
        load=200000,
    )
    # Period 0 is 6 Apr to 3 May 2026. 23:30 UTC on 3 May is 00:30 on 4 May in London
    # (BST), so that taxi belongs to period 1.
    world.spend(case.card, 6000, at(START + timedelta(days=3)), mcc="4121")
    world.spend(case.card, 4500, at(date(2026, 5, 3), 22, 30), mcc="4121")
    world.spend(case.card, 4000, at(date(2026, 5, 3), 23, 30), mcc="4121")
    run_monitor(session, clock, NAME)
    assert flags(session) == []  # 6000 + 4500 = 10500, within 10% over 10000
    world.spend(case.card, 600, at(date(2026, 5, 3), 22, 45), mcc="4121")
    run_monitor(session, clock, NAME)
    (flag,) = flags(session, "over_allowance")
    assert "£111.00" in flag.explanation and "6 April 2026 to 3 May 2026" in flag.explanation


def test_long_names_fit_the_flag_and_its_notifications(session, clock):
    world = World(session, clock)
    long_line = "Homecare " + "and support at home " * 9  # 189 characters
    case = world.case([PlanLineSpec(PlanCategory.AGENCY_CARE, long_line, 1000)], load=100000)
    world.spend(case.card, 5000, at(START + timedelta(days=1)), mcc="8050")
    merchant = "Lucky " + "x" * 194  # 200 characters
    world.spend(case.card, 5000, at(START + timedelta(days=2)), mcc="7995", merchant=merchant)
    set_setting(session, clock, "officer_email", "team@example.org", officer="o", reason="r")
    run_monitor(session, clock, NAME)
    found = flags(session)
    assert {f.rule for f in found} == {f"{NAME}.over_allowance", f"{NAME}.blocked_category"}
    assert all(len(f.title) <= 200 for f in found)
    over = next(f for f in found if f.rule.endswith("over_allowance"))
    assert over.title.startswith("Over the plan's allowance for Homecare") and over.title[-1] == "…"
    keys = session.execute(select(FlagEvidence.dedupe_key)).scalars().all()
    assert len(keys) == 2 and all(len(key) <= 290 for key in keys)
    assert len(set(keys)) == 2
    notes = session.execute(select(Notification)).scalars().all()  # the officer's, of the high
    assert notes and all(len(n.subject) <= 200 and len(n.dedupe_key) <= 300 for n in notes)
    # The shortened key is stable: a re-run adds nothing.
    assert run_monitor(session, clock, NAME).raised.new_evidence == 0


def test_evidence_lists_the_payments_not_only_the_latest(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    paid = [
        world.spend(case.card, 100, at(START + timedelta(days=1), 8 + n), mcc="5732")
        for n in range(3)
    ]
    world.spend(case.card, 100, at(START + timedelta(days=1), 12), mcc="8050")  # covered
    (hit,) = run_monitor(session, clock, NAME).hits
    assert hit.transfer_ids == tuple(paid)


def test_the_list_of_payments_is_bounded_to_the_latest_twenty(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    paid = [
        world.spend(case.card, 100, at(START + timedelta(days=1 + n // 10), 8 + n % 10), mcc="5732")
        for n in range(25)
    ]
    (hit,) = run_monitor(session, clock, NAME).hits
    assert hit.transfer_ids == tuple(paid[-20:]) and hit.figures["payments"] == 25


def test_over_allowance_evidence_lists_the_lines_payments_in_the_period(session, clock):
    world = World(session, clock)
    case = world.case(
        [
            PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 60000),
            PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", 10000),
            PlanLineSpec(PlanCategory.EQUIPMENT, "Hoist", 20000, one_off=True),
        ],
        budget=70000,
        load=300000,
    )
    earlier = world.spend(case.card, 2000, at(START, 9), mcc="4121")
    taxis = [
        world.spend(case.card, 5000, at(START + timedelta(days=d)), mcc="4121") for d in (2, 9)
    ]
    world.spend(case.card, 30000, at(START + timedelta(days=3)), mcc="8050")  # another line
    world.spend(case.card, 1000, at(START + timedelta(days=29)), mcc="4121")  # next period
    hoist = [
        world.spend(case.card, 15000, at(START + timedelta(days=d)), mcc="5732") for d in (4, 40)
    ]
    clock.current = at(START + timedelta(days=41))
    found = {h.subject_id: h for h in run_monitor(session, clock, NAME).hits}
    taxi_line, hoist_line = case.plan.lines[1].id, case.plan.lines[2].id
    assert found[taxi_line].transfer_ids == (earlier, *taxis)
    assert found[hoist_line].transfer_ids == tuple(hoist)


def test_over_allowance_evidence_lists_a_companion_cards_payments_from_the_pot(session, clock):
    # The payments behind a line's flag are read from every account the budget pays from
    # (the budget and its companion pots), not only the budget account.
    world = World(session, clock)
    case = world.case(
        [
            PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 60000),
            PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", 10000),
        ],
        budget=70000,
        load=300000,
        companion=True,
    )
    world.load(case, 20000, at(START, 7), pot=20000)
    own = world.spend(case.card, 6000, at(START + timedelta(days=2)), mcc="4121")
    from_pot = world.spend(case.companion_card, 6000, at(START + timedelta(days=3)), mcc="4121")
    clock.current = at(START + timedelta(days=5))
    found = {h.subject_id: h for h in run_monitor(session, clock, NAME).hits}
    assert found[case.plan.lines[1].id].transfer_ids == (own, from_pot)
