"""Clawback: proposed from the surplus, approved by a second officer above the threshold
(never the proposer), the holder told and given time, executed once, never overdrawing."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ledger.card_payments import CardPayments
from ledger.errors import InvalidRecord
from ledger.models import Account, Transfer, TransferCode
from ledger.ports import CardCommand
from monitoring import advocacy
from monitoring.clawback import Clawbacks, record_sent_notices
from monitoring.errors import (
    AdvocacyNotRecorded,
    ExceedsRecoverable,
    InvalidTransition,
    NoticeNotSent,
    ResponseWindowOpen,
    SecondOfficerRequired,
)
from monitoring.models import ClawbackStatus, Flag, FlagStatus, Notification
from monitoring.notifications import LogSender, dispatch
from monitoring.runner import run_monitor
from tests.monitoring.builders import START, World, at
from tests.monitoring.fakes import RecordingProvider, RecordingSender

# Budget £400 per 4 weeks (£100 a week): 8 weeks kept = £800, contingency = £200.


def surplus_case(session, clock, loaded):
    world = World(session, clock)
    case = world.case(budget=40000, load=loaded, email="holder@example.org")
    clock.current = at(START + timedelta(days=1))
    return world, case


def no_advocate_needed(session, clock, proposal):
    advocacy.record_need(
        session,
        clock,
        person_id=proposal.person_id,
        decision=f"clawback:{proposal.id}",
        substantial_difficulty=False,
        appropriate_person=True,
        officer="o1",
        reason="Holder manages their own affairs",
    )


def send_notices(session, clock):
    """The notifications job: the outbox sent by email, then response windows opened."""
    dispatch(session, clock, RecordingSender())
    record_sent_notices(session, clock)


def clawback_transfers(session):
    return session.execute(
        select(func.count()).select_from(Transfer).where(Transfer.code == TransferCode.CLAWBACK)
    ).scalar_one()


def test_a_surplus_flag_leads_to_a_proposal_of_the_calculated_amount(session, clock):
    _, case = surplus_case(session, clock, 200000)
    run_monitor(session, clock, "surplus")
    flag = session.execute(select(Flag).where(Flag.monitor == "surplus")).scalar_one()
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(flag_id=flag.id, officer="o1", reason="Surplus above 8 weeks")
    # 200000 - 20000 contingency - 80000 kept = 100000
    assert proposal.amount == proposal.calculated_amount == 100000
    assert proposal.items["contingency"] == 20000 and not proposal.needs_second_approval
    with pytest.raises(InvalidTransition):  # one clawback at a time per budget
        claw.propose(plan_id=case.plan.id, officer="o1", reason="again")


def test_the_proposer_cannot_approve_a_clawback_above_the_threshold(session, clock):
    _, case = surplus_case(session, clock, 250000)
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    assert proposal.amount == 150000 and proposal.needs_second_approval
    no_advocate_needed(session, clock, proposal)
    with pytest.raises(SecondOfficerRequired):
        claw.approve(proposal.id, officer="o1", reason="Approving my own")
    claw.approve(proposal.id, officer="o2", reason="Checked the statements")
    # Approved, and the holder's notice queued: they are told when it is sent.
    assert proposal.approved_by == "o2" and proposal.status is ClawbackStatus.APPROVED


def test_below_the_threshold_the_proposer_may_approve(session, clock):
    _, case = surplus_case(session, clock, 150000)
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    no_advocate_needed(session, clock, proposal)
    claw.approve(proposal.id, officer="o1", reason="Small amount")
    assert proposal.status is ClawbackStatus.APPROVED


def test_approval_needs_the_advocacy_question_answered(session, clock):
    _, case = surplus_case(session, clock, 150000)
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    with pytest.raises(AdvocacyNotRecorded):
        claw.approve(proposal.id, officer="o2", reason="r")


def test_never_more_than_the_calculation_and_only_ever_edited_down(session, clock):
    _, case = surplus_case(session, clock, 150000)
    claw = Clawbacks(session, clock, RecordingProvider())
    with pytest.raises(ExceedsRecoverable):
        claw.propose(plan_id=case.plan.id, officer="o1", reason="r", amount=50001)
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="r", amount=40000)
    with pytest.raises(InvalidRecord):
        claw.edit_down(proposal.id, 45000, officer="o1", reason="up")
    claw.edit_down(proposal.id, 30000, officer="o1", reason="Holder saving for a chair")
    assert proposal.amount == 30000


def test_the_holder_is_told_and_execution_waits_for_the_response_window(session, clock):
    _, case = surplus_case(session, clock, 200000)
    provider = RecordingProvider()
    claw = Clawbacks(session, clock, provider)
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    no_advocate_needed(session, clock, proposal)
    claw.approve(proposal.id, officer="o2", reason="OK")
    notice = session.execute(select(Notification)).scalar_one()
    assert notice.to_address == "holder@example.org" and "£1,000.00" in notice.body
    assert "21 April 2026" in notice.body and "Nothing will be taken before then" in notice.body
    assert proposal.respond_by is None  # the window opens when the notice is sent
    with pytest.raises(NoticeNotSent):
        claw.execute(proposal.id, officer="o2", reason="Go")
    send_notices(session, clock)
    assert proposal.status is ClawbackStatus.HOLDER_NOTIFIED
    assert proposal.respond_by == date(2026, 4, 7) + timedelta(days=14)
    assert proposal.holder_notified_how == "email"
    with pytest.raises(ResponseWindowOpen):
        claw.execute(proposal.id, officer="o2", reason="Go")
    clock.current = at(date(2026, 4, 22))
    done = claw.execute(proposal.id, officer="o2", reason="No response")
    again = claw.execute(proposal.id, officer="o2", reason="Clicked twice")
    assert done.status is ClawbackStatus.EXECUTED and again.transfer_id == done.transfer_id
    assert clawback_transfers(session) == 1
    assert CardPayments(session, clock).balances(case.budget.id).posted == 100000
    (unload,) = provider.commands(CardCommand.UNLOAD)
    assert unload.amount == 100000 and unload.key == f"clawback-unload:{proposal.id}"


def test_a_response_from_the_holder_ends_the_wait_and_the_flag_is_actioned(session, clock):
    _, _case = surplus_case(session, clock, 200000)
    run_monitor(session, clock, "surplus")
    flag = session.execute(select(Flag).where(Flag.monitor == "surplus")).scalar_one()
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(flag_id=flag.id, officer="o1", reason="Surplus")
    no_advocate_needed(session, clock, proposal)
    claw.approve(proposal.id, officer="o2", reason="OK")
    claw.record_holder_response(proposal.id, "Happy for it to go back", officer="o1")
    with pytest.raises(NoticeNotSent):  # they rang, but the notice must still be sent
        claw.execute(proposal.id, officer="o2", reason="Holder agreed")
    send_notices(session, clock)
    claw.execute(proposal.id, officer="o2", reason="Holder agreed")
    assert flag.status is FlagStatus.ACTIONED


def test_execution_never_overdraws_when_money_was_spent_meanwhile(session, clock):
    world, case = surplus_case(session, clock, 200000)
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    no_advocate_needed(session, clock, proposal)
    claw.approve(proposal.id, officer="o2", reason="OK")
    send_notices(session, clock)
    world.spend(case.card, 150000, at(date(2026, 4, 20)))
    clock.current = at(date(2026, 4, 22))
    with pytest.raises(ExceedsRecoverable):  # 50000 left, less 20000 contingency = 30000
        claw.execute(proposal.id, officer="o2", reason="Go")
    assert clawback_transfers(session) == 0
    claw.edit_down(proposal.id, 30000, officer="o2", reason="Spent on equipment")
    claw.execute(proposal.id, officer="o2", reason="Go")
    budget = session.get(Account, case.budget.id)
    session.refresh(budget)
    assert budget.available_balance == 20000


def test_an_under_spend_flag_can_never_lead_to_a_clawback(session, clock):
    world = World(session, clock)
    case = world.case(budget=40000, load=200000)
    clock.current = at(date(2026, 6, 2))
    run_monitor(session, clock, "under_spend")
    flag = session.execute(select(Flag).where(Flag.monitor == "under_spend")).scalars().first()
    with pytest.raises(InvalidRecord, match="only a surplus flag"):
        Clawbacks(session, clock, RecordingProvider()).propose(
            flag_id=flag.id, officer="o1", reason="r"
        )
    del case


@pytest.mark.concurrency
def test_two_officers_executing_at_once_recover_once(committed, clock):
    with committed() as session, session.begin():
        _, case = surplus_case(session, clock, 200000)
        claw = Clawbacks(session, clock, RecordingProvider())
        proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
        no_advocate_needed(session, clock, proposal)
        claw.approve(proposal.id, officer="o2", reason="OK")
        send_notices(session, clock)
        claw.record_holder_response(proposal.id, "Fine", officer="o1")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def execute() -> None:
        try:
            barrier.wait()
            with committed() as s, s.begin():
                Clawbacks(s, clock, RecordingProvider()).execute(
                    proposal.id, officer="o2", reason="Go"
                )
        except BaseException as error:  # collected and checked below
            errors.append(error)

    threads = [threading.Thread(target=execute) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with committed() as session:
        assert clawback_transfers(session) == 1


# -- the holder's notice must be sent before anything is taken -----------------------------


def approved(session, clock, loaded=200000, email="holder@example.org"):
    world = World(session, clock)
    case = world.case(budget=40000, load=loaded, email=email)
    clock.current = at(START + timedelta(days=1))
    claw = Clawbacks(session, clock, RecordingProvider())
    proposal = claw.propose(plan_id=case.plan.id, officer="o1", reason="Surplus")
    no_advocate_needed(session, clock, proposal)
    claw.approve(proposal.id, officer="o2", reason="OK")
    return claw, proposal


def test_the_window_counts_from_the_day_the_notice_was_sent(session, clock):
    claw, proposal = approved(session, clock)
    clock.current = at(date(2026, 4, 10))  # the mail server was down until the 10th
    send_notices(session, clock)
    assert proposal.respond_by == date(2026, 4, 24)
    clock.current = at(date(2026, 4, 22))  # 14 days after approval, 12 after the notice
    with pytest.raises(ResponseWindowOpen):
        claw.execute(proposal.id, officer="o2", reason="Go")
    clock.current = at(date(2026, 4, 25))
    assert claw.execute(proposal.id, officer="o2", reason="Go").status is ClawbackStatus.EXECUTED


def test_a_notice_only_logged_is_no_notice_until_a_letter_is_recorded(session, clock):
    claw, proposal = approved(session, clock, email=None)  # no email address on file
    dispatch(session, clock, RecordingSender())
    record_sent_notices(session, clock)
    clock.current = at(date(2026, 5, 30))
    with pytest.raises(NoticeNotSent, match="record the date a letter was sent"):
        claw.execute(proposal.id, officer="o2", reason="Go")
    with pytest.raises(InvalidRecord):  # not in the future
        claw.record_notice_sent(proposal.id, sent_on=date(2026, 6, 1), officer="o2", reason="r")
    claw.record_notice_sent(
        proposal.id, sent_on=date(2026, 5, 28), officer="o2", reason="Letter, second class"
    )
    assert (proposal.status, proposal.holder_notified_how) == (
        ClawbackStatus.HOLDER_NOTIFIED,
        "letter",
    )
    assert proposal.respond_by == date(2026, 6, 11)
    with pytest.raises(ResponseWindowOpen):
        claw.execute(proposal.id, officer="o2", reason="Go")
    with pytest.raises(InvalidTransition, match="already told"):
        claw.record_notice_sent(proposal.id, sent_on=date(2026, 5, 29), officer="o2", reason="r")


def test_a_notice_logged_for_want_of_a_mail_server_is_not_sent(session, clock):
    claw, proposal = approved(session, clock)
    dispatch(session, clock, LogSender())
    record_sent_notices(session, clock)
    clock.current = at(date(2026, 5, 30))
    assert proposal.status is ClawbackStatus.APPROVED
    with pytest.raises(NoticeNotSent):
        claw.execute(proposal.id, officer="o2", reason="Go")
