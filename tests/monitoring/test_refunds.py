"""Refunds and reversals are netted from the spend they undo: a refunded purchase is not
spend outside the plan, and allowances, patterns, drains and under-spend see what was
really spent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.enrolment import PlanLineSpec
from ledger.models import PlanCategory
from monitoring.models import PlanPeriodTotal
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at


def refund(world, card, amount, when, *, mcc="5732", merchant="Currys"):
    world.clock.current = when
    (record,) = world.ledger.refund(
        card.id, amount, source="test", key=world.key("refund"), merchant_name=merchant, mcc=mcc
    )
    return record.id


def totals(session, plan_id):
    return session.execute(
        select(PlanPeriodTotal).where(PlanPeriodTotal.plan_id == plan_id)
    ).scalar_one()


def test_a_refunded_purchase_outside_the_plan_is_not_flagged(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 5000, at(START + timedelta(days=1)), mcc="5732", merchant="Currys")
    refund(world, case.card, 5000, at(START + timedelta(days=2)))
    assert run_monitor(session, clock, "spend_outside_plan").hits == []


def test_a_partly_refunded_purchase_is_flagged_for_what_was_kept(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 5000, at(START + timedelta(days=1)), mcc="5732", merchant="Currys")
    refund(world, case.card, 2000, at(START + timedelta(days=2)))
    (hit,) = run_monitor(session, clock, "spend_outside_plan").hits
    assert hit.figures["amount"] == 3000 and "£30.00 was spent at Currys" in hit.explanation


def test_a_refund_brings_a_line_back_within_its_allowance(session, clock):
    world = World(session, clock)
    case = world.case([PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 10000)], load=100000)
    world.spend(case.card, 12000, at(START + timedelta(days=1)), mcc="8050", merchant="Agency")
    refund(world, case.card, 3000, at(START + timedelta(days=3)), mcc="8050", merchant="Agency")
    assert run_monitor(session, clock, "spend_outside_plan").hits == []
    assert totals(session, case.plan.id).spend == 9000


def test_money_refunded_within_the_hours_is_not_a_rapid_drain(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000)
    world.load(case, 50000, at(START, 6))
    world.spend(case.card, 45000, at(START, 9), mcc="5732", merchant="Currys")
    refund(world, case.card, 10000, at(START, 15))
    assert run_monitor(session, clock, "rapid_drain").hits == []


def test_a_returned_bank_payment_is_not_spend_nor_a_regular_payment(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    paid = world.pay(case, 40000, at(START + timedelta(days=1)), "J Smith")
    world.ledger.reverse(paid, source="test", key=world.key("reverse"))
    world.pay(case, 5000, at(START + timedelta(days=2)), "Brightwell")
    run_monitor(session, clock, "surplus")  # brings the period totals up to date
    row = totals(session, case.plan.id)
    assert (row.spend, row.regular_payments, row.spend_count) == (5000, 5000, 2)


def test_a_refund_is_not_spending_activity(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 5000, at(START + timedelta(days=1)), mcc="5732", merchant="Currys")
    refund(world, case.card, 1000, at(START + timedelta(days=25)))
    clock.current = at(START + timedelta(days=30))
    (hit,) = run_monitor(session, clock, "under_spend").hits
    assert hit.rule == "under_spend.no_spend" and "since 7 April 2026" in hit.explanation
