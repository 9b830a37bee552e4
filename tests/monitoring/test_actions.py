"""Officer actions: suspend and unsuspend, emergency loads, safeguarding, reviews and the
advocacy check. Each needs a reason and is audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ledger.card_payments import CardPayments
from ledger.errors import InvalidRecord
from ledger.models import CardStatus, TransferCode
from ledger.ports import CardCommand
from monitoring import advocacy, safeguarding
from monitoring.actions import EmergencySupport, OfficerActions
from monitoring.errors import AdvocacyNotRecorded, AdvocateRequired, InvalidTransition, NotPermitted
from monitoring.flags import Hit, raise_flags
from monitoring.models import AuditEntry, FlagStatus, Severity
from monitoring.settings import MonitoringSettings
from tests.monitoring.builders import World
from tests.monitoring.fakes import RecordingProvider


@pytest.fixture()
def provider():
    return RecordingProvider()


@pytest.fixture()
def actions(session, clock, provider):
    return OfficerActions(session, clock, provider)


def audit(session, action):
    return (
        session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )


def test_suspending_blocks_authorisations_at_once_and_tells_the_provider(
    session, clock, actions, provider
):
    case = World(session, clock).case(load=10000)
    with pytest.raises(InvalidRecord):
        actions.suspend_card(case.card.id, officer="o1", reason="")
    change = actions.suspend_card(case.card.id, officer="o1", reason="Spend after death")
    assert change.changed and change.status is CardStatus.SUSPENDED
    decision = CardPayments(session, clock).authorise(
        case.card.id, 500, source="t", key="after-suspend", merchant_name="Shop", mcc="5411"
    )
    assert not decision.approved and decision.decline_reason == "card_suspended"
    (sent,) = provider.commands(CardCommand.SUSPEND)
    (entry,) = audit(session, "card_suspend")
    assert sent.key == f"card-status:{entry.id}" and sent.reason == "Spend after death"
    assert entry.before == {"status": "active"} and entry.actor == "o1"
    (told,) = audit(session, "provider_told")
    assert told.after["accepted"] is True


def test_a_repeated_suspension_changes_nothing_but_tells_the_provider_again_by_key(
    session, clock, actions, provider
):
    case = World(session, clock).case(load=10000)
    actions.suspend_card(case.card.id, officer="o1", reason="Concern")
    again = actions.suspend_card(case.card.id, officer="o1", reason="Concern")
    assert not again.changed
    first, second = provider.commands(CardCommand.SUSPEND)
    assert first.key == second.key
    assert len(audit(session, "card_suspend")) == 1


def test_unsuspending_lets_payments_through_and_a_closed_card_cannot_change(
    session, clock, actions, provider
):
    case = World(session, clock).case(load=10000)
    actions.suspend_card(case.card.id, officer="o1", reason="Concern")
    actions.unsuspend_card(case.card.id, officer="o2", reason="Explained")
    decision = CardPayments(session, clock).authorise(
        case.card.id, 500, source="t", key="after-unsuspend", merchant_name="Shop", mcc="5411"
    )
    assert decision.approved
    assert [s.command for s in provider.sent] == [CardCommand.SUSPEND, CardCommand.UNSUSPEND]
    case.card.status = CardStatus.CLOSED
    session.flush()
    with pytest.raises(InvalidTransition):
        actions.suspend_card(case.card.id, officer="o1", reason="Concern")


def test_suspension_from_a_flag_is_written_in_its_history(session, clock, actions):
    case = World(session, clock).case(load=10000)
    result = raise_flags(
        session,
        clock,
        MonitoringSettings(),
        "m",
        [Hit("m.r", "card", case.card.id, "k", Severity.HIGH, "Title", "Text")],
    )
    (flag_id,) = result.flag_ids
    actions.suspend_card(case.card.id, officer="o1", reason="Flag", flag_id=flag_id)
    from monitoring.repositories.flags import history_of

    assert [h.action for h in history_of(session, flag_id)] == ["raised", "card_suspend"]


SUPPORT = EmergencySupport(
    kind="urgent",
    purpose="Carer in hospital: replacement care for a week",
    council_amount=45000,
    person_amount=5000,
    duration_days=7,
    review_how="Phone call with the family",
    review_on=date(2026, 4, 13),
    outcome_aimed_at="Stay safely at home",
    next_steps="Review the plan when the carer is home",
)


def test_an_emergency_load_is_instant_recorded_and_made_once_per_request(
    session, clock, actions, provider
):
    case = World(session, clock).case()
    record = actions.emergency_load(
        case.budget.id, SUPPORT, request_key="req-1", officer="o1", reason="Carer admitted"
    )
    again = actions.emergency_load(
        case.budget.id, SUPPORT, request_key="req-1", officer="o1", reason="Carer admitted"
    )
    assert again.id == record.id
    balances = CardPayments(session, clock).balances(case.budget.id)
    assert balances.posted == 45000
    from ledger.repositories.transfers import get

    assert get(session, record.transfer_id).code is TransferCode.EMERGENCY_LOAD
    assert record.person_amount == 5000 and record.review_how.startswith("Phone")
    assert len(provider.commands(CardCommand.LOAD)) == 1
    with pytest.raises(InvalidRecord):
        actions.emergency_load(
            case.budget.id,
            EmergencySupport(**{**SUPPORT.__dict__, "outcome_aimed_at": " "}),
            request_key="req-2",
            officer="o1",
            reason="x",
        )


def test_escalation_to_safeguarding_is_restricted_and_every_view_logged(session, clock, actions):
    case = World(session, clock).case(load=10000)
    result = raise_flags(
        session,
        clock,
        MonitoringSettings(),
        "rapid_drain",
        [Hit("rapid_drain.x", "card", case.card.id, "k", Severity.HIGH, "Drain", "Text")],
    )
    record = actions.escalate_to_safeguarding(
        case.person.id,
        concern="Son withdrawing cash nightly",
        officer="o1",
        reason="Pattern of drain",
        flag_id=result.flag_ids[0],
    )
    from monitoring.repositories.flags import get

    assert get(session, result.flag_ids[0]).status is FlagStatus.ESCALATED_TO_SAFEGUARDING
    (raised,) = audit(session, "safeguarding_concern_raised")
    assert "nightly" not in str(raised.after)  # the audit log does not repeat the concern
    with pytest.raises(NotPermitted):
        safeguarding.records_for(
            session, clock, case.person.id, officer="o2", roles={"finance"}, reason="Curious"
        )
    (seen,) = safeguarding.records_for(
        session, clock, case.person.id, officer="s1", roles={"safeguarding"}, reason="Enquiry"
    )
    assert seen.id == record.id
    (viewed,) = audit(session, "safeguarding_viewed")
    assert viewed.actor == "s1" and viewed.after == {"records": [record.id]}


def test_a_review_decision_waits_for_an_advocate_unless_urgent(session, clock, actions):
    case = World(session, clock).case(load=10000)
    request = actions.request_review(case.plan.id, officer="o1", reason="No spend in 6 weeks")
    assert request.due_by == date(2026, 4, 6) + timedelta(days=28)
    with pytest.raises(AdvocacyNotRecorded):
        actions.decide_review(request.id, decision="Keep", officer="o1", reason="r")
    need = advocacy.record_need(
        session,
        clock,
        person_id=case.person.id,
        decision=f"review:{request.id}",
        substantial_difficulty=True,
        appropriate_person=False,
        officer="o1",
        reason="Dementia; no family nearby",
    )
    with pytest.raises(AdvocateRequired):
        actions.decide_review(request.id, decision="Keep", officer="o1", reason="r")
    advocacy.appoint_advocate(session, clock, need.id, "Jo Advocate", officer="o1", reason="r")
    decided = actions.decide_review(request.id, decision="Keep the plan", officer="o1", reason="r")
    assert decided.decided_by == "o1"


def test_an_urgent_review_decision_can_go_ahead_without_the_advocate(session, clock, actions):
    case = World(session, clock).case(load=10000)
    request = actions.request_review(case.plan.id, officer="o1", reason="Risk")
    advocacy.record_need(
        session,
        clock,
        person_id=case.person.id,
        decision=f"review:{request.id}",
        substantial_difficulty=True,
        appropriate_person=False,
        officer="o1",
        reason="r",
    )
    decided = actions.decide_review(
        request.id, decision="Increase care", officer="o1", reason="Safety", urgent=True
    )
    assert decided.status.value == "decided"


def test_a_review_asked_for_from_a_flag_shows_its_decision_on_the_flag(session, clock, actions):
    from monitoring.models import FlagHistory

    case = World(session, clock).case(load=10000)
    result = raise_flags(
        session,
        clock,
        MonitoringSettings(),
        "no_spend",
        [Hit("no_spend.x", "card", case.card.id, "k", Severity.LOW, "No spend", "Text")],
    )
    (flag_id,) = result.flag_ids
    request = actions.request_review(
        case.plan.id, officer="o1", reason="No spend in 6 weeks", flag_id=flag_id
    )
    advocacy.record_need(
        session,
        clock,
        person_id=case.person.id,
        decision=f"review:{request.id}",
        substantial_difficulty=False,
        appropriate_person=True,
        officer="o1",
        reason="Can take part with her daughter's help",
    )
    actions.decide_review(request.id, decision="Add a day centre", officer="o2", reason="Met")
    history = (
        session.execute(
            select(FlagHistory).where(FlagHistory.flag_id == flag_id).order_by(FlagHistory.id)
        )
        .scalars()
        .all()
    )
    assert [(h.action, h.actor) for h in history][-2:] == [
        ("review_requested", "o1"),
        ("review_decided", "o2"),
    ]
    assert history[-1].reason == "Met"
    assert history[-1].after == {"review_request_id": request.id, "decision": "Add a day centre"}
