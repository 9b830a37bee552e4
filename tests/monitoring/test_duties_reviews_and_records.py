"""Employer duties, reviews, reconciliation breaks and arrears."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.enrolment import PlanLineSpec
from ledger.models import PlanCategory, ReconciliationBreak, TransferCode
from monitoring.actions import OfficerActions
from monitoring.models import Severity
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at
from tests.monitoring.fakes import RecordingProvider

PA_PLAN = [
    PlanLineSpec(PlanCategory.PA_WAGES, "PA wages", 80000, agreed_payees=("Sarah Cole",)),
    PlanLineSpec(PlanCategory.HMRC_PAYE, "PAYE", 10000),
    PlanLineSpec(
        PlanCategory.EMPLOYERS_LIABILITY_INSURANCE,
        "EL cover",
        10000,
        agreed_payees=("Acme Mutual",),
    ),
]


def rules(session, clock, name):
    return sorted(h.rule.split(".")[1] for h in run_monitor(session, clock, name).hits)


def test_an_employer_with_no_paye_or_insurance_payments_is_flagged(session, clock):
    world = World(session, clock)
    world.case(PA_PLAN, load=500000)
    clock.current = at(START + timedelta(days=29))
    assert rules(session, clock, "employer_duties") == []  # insurance: a month's grace
    clock.current = at(START + timedelta(days=31))
    assert rules(session, clock, "employer_duties") == ["el_insurance_missing"]
    clock.current = at(START + timedelta(days=115))  # a quarter plus 22 days
    assert rules(session, clock, "employer_duties") == ["el_insurance_missing", "paye_missing"]


def test_an_employer_paying_hmrc_and_their_insurer_is_not_flagged(session, clock):
    world = World(session, clock)
    case = world.case(PA_PLAN, load=500000)
    world.pay(case, 30000, at(START + timedelta(days=2)), "Acme Mutual")
    world.pay(case, 12000, at(START + timedelta(days=60)), "HMRC Cumbernauld")
    clock.current = at(START + timedelta(days=115))
    assert rules(session, clock, "employer_duties") == []


def test_plans_without_a_personal_assistant_have_no_employer_duties(session, clock):
    World(session, clock).case(load=500000)
    clock.current = at(START + timedelta(days=400))
    assert rules(session, clock, "employer_duties") == []


def test_review_due_then_overdue_then_long_overdue(session, clock):
    world = World(session, clock)
    world.case(load=100000, review_date=date(2026, 6, 1))
    clock.current = at(date(2026, 5, 3))
    assert run_monitor(session, clock, "review_due").hits == []
    clock.current = at(date(2026, 5, 4))
    (due,) = run_monitor(session, clock, "review_due").hits
    clock.current = at(date(2026, 6, 2))
    (late,) = run_monitor(session, clock, "review_due").hits
    clock.current = at(date(2026, 9, 1))
    (long_late,) = run_monitor(session, clock, "review_due").hits
    assert [h.severity for h in (due, late, long_late)] == [
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
    ]
    assert run_monitor(session, clock, "review_due").raised.new_evidence == 0


def test_an_unplanned_review_past_its_due_date(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    actions = OfficerActions(session, clock, RecordingProvider())
    actions.request_review(
        case.plan.id, officer="o1", reason="Under-spend", due_by=date(2026, 5, 1)
    )
    clock.current = at(date(2026, 5, 2))
    (hit,) = run_monitor(session, clock, "review_due").hits
    assert hit.rule == "review_due.requested_review"


def test_reconciliation_breaks_are_flagged_once(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    # No service records breaks yet (the adapters' statement import will): add the record.
    session.add_all(
        [
            ReconciliationBreak(
                source="statement",
                card_id=case.card.id,
                account_id=case.budget.id,
                as_of=date(2026, 4, 7),
                provider_balance=89000,
                ledger_balance=100000,
                detected_at=clock.now(),
            ),
            ReconciliationBreak(
                source="statement",
                card_id=case.card.id,
                account_id=case.budget.id,
                as_of=date(2026, 4, 8),
                provider_balance=99950,
                ledger_balance=100000,
                detected_at=clock.now(),
            ),
        ]
    )
    session.flush()
    found = run_monitor(session, clock, "reconciliation_break").hits
    assert [h.severity for h in found] == [Severity.HIGH, Severity.MEDIUM]
    assert run_monitor(session, clock, "reconciliation_break").hits == []


def test_arrears_are_critical_and_each_new_shortfall_adds_evidence(session, clock):
    world = World(session, clock)
    case = world.case(load=1000)
    world.ledger.record_clearing(case.card.id, 1500, source="t", key="force-1", mcc="5411")
    (hit,) = run_monitor(session, clock, "arrears").hits
    assert hit.severity is Severity.CRITICAL and "£5.00" in hit.explanation
    assert run_monitor(session, clock, "arrears").raised.new_evidence == 0
    world.ledger.record_clearing(
        case.card.id, 700, source="t", key="force-2", mcc="5411", code=TransferCode.CARD_SPEND
    )
    result = run_monitor(session, clock, "arrears")
    assert (result.raised.new_flags, result.raised.new_evidence) == (0, 1)
