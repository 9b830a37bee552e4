"""Clawbacks through the officers' pages, end to end on the demo world: proposed from the
itemised surplus calculation with the advocacy question, approved by a senior officer who
is not the proposer (the pages say why someone cannot), executed after the holder's
response window once, moving the money once and telling the provider once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from adapters.models import CardCommandRecord, CommandStatus
from ledger.clock import FixedClock
from ledger.models import Account, AccountKind, Card, Person, Plan, Transfer, TransferCode
from ledger.service import Ledger
from monitoring.clawback import record_sent_notices
from monitoring.models import AdvocacyNeed, ClawbackProposal, ClawbackStatus, Notification
from monitoring.notifications import dispatch
from portal.auth import passwords
from portal.auth.users import create_user
from portal.demo import DEMO_PASSWORD
from portal.models import RecordView, Role
from tests.monitoring.fakes import RecordingSender
from tests.portal import portal_support as support
from tests.portal.portal_support import (
    WEB_NOW,
    Web,
    csrf_token,
    page_text,
    parse_page,
    signed_in,
    text_of,
)
from tests.portal.test_officer_people_cards import banner, count, error_summary, post

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"
SENIOR = "senior.officer@example.org"
NO_ADVOCATE = {
    "substantial_difficulty": "no",
    "appropriate_person": "yes",
    "advocacy_note": "Vivian manages her own affairs",
}


def plan_of(web: Web, reference: str) -> int:
    with web.session() as session:
        return session.execute(
            select(Plan.id)
            .join(Person, Person.id == Plan.person_id)
            .where(Person.council_reference == reference)
        ).scalar_one()


def vivian_plan(web: Web) -> int:
    return plan_of(web, "DEMO-0007")


def budget_of_vivian(web: Web) -> Account:
    with web.session() as session:
        card = session.get(Card, web.world.cards["4307"])
        assert card is not None
        account = session.get(Account, card.account_id)
        assert account is not None
        return account


def load_vivian(web: Web, pence: int) -> None:
    """A load that leaves Vivian's budget well over eight weeks of budget."""
    with web.session() as session:
        Ledger(session, FixedClock(WEB_NOW)).load(
            budget_of_vivian(web).id, pence, source="test", key=f"extra-{pence}"
        )
        session.commit()


def propose(web: Web, amount: str, *, email: str = OFFICER, **advocacy: str) -> Any:
    return post(
        web,
        f"/officer/plans/{vivian_plan(web)}/clawback",
        {"amount": amount, "reason": "Well over eight weeks", **(advocacy or NO_ADVOCATE)},
        email=email,
    )


def step(web: Web, proposal_id: int, name: str, data: dict[str, str], *, email: str) -> Any:
    fields = {f"{name}-{key}": value for key, value in data.items()}
    return post(web, f"/officer/clawbacks/{proposal_id}/{name}", fields, email=email)


def the_proposal(web: Web) -> ClawbackProposal:
    with web.session() as session:
        return session.execute(select(ClawbackProposal)).scalar_one()


# -- proposing ------------------------------------------------------------------------------------


def test_the_proposal_page_shows_the_itemised_calculation(web: Web) -> None:
    client = signed_in(web, OFFICER)
    document = parse_page(client.get(f"/officer/plans/{vivian_plan(web)}/clawback"))
    text = text_of(document)
    for line in [
        "Balance of the budget £2,149.50",
        "Money in companion pots plus £84.00",
        "Contingency less £440.00",
        "8 weeks of budget kept less £1,760.00",
        "Surplus £33.50",
        "Recoverable from the budget (available less the contingency) £1,709.50",
        "Proposed clawback (the smaller of the two, never below £0) £33.50",
    ]:
        assert line in text
    amount = document.find(".//input[@name='amount']")
    assert amount is not None and amount.get("value") == "33.50"
    with web.session() as session:
        assert (
            session.execute(select(RecordView.person_id)).scalar_one()
            == (web.world.people["DEMO-0007"])
        )


def test_a_plan_with_no_surplus_offers_no_proposal(web: Web) -> None:
    margaret = plan_of(web, "DEMO-0003")
    text = page_text(signed_in(web, OFFICER).get(f"/officer/plans/{margaret}/clawback"))
    assert "Margaret Hughes" in text and "There is no surplus to recover" in text


@pytest.mark.parametrize(
    ("amount", "advocacy", "message"),
    [
        ("33.51", NO_ADVOCATE, "£33.51 is more than the surplus calculation allows (£33.50)"),
        ("0", NO_ADVOCATE, "Amount to recover must be more than £0"),
        ("1.001", NO_ADVOCATE, "must be an amount in pounds and pence"),
        ("", NO_ADVOCATE, "Enter the amount to recover"),
        ("20", {"advocacy_note": "x"}, "Say whether the person would have substantial"),
    ],
)
def test_a_proposal_with_bad_input_changes_nothing(
    web: Web, amount: str, advocacy: dict[str, str], message: str
) -> None:
    assert message in error_summary(propose(web, amount, **advocacy))
    assert count(web, ClawbackProposal) == 0
    assert count(web, AdvocacyNeed) == 0


def test_proposing_records_the_advocacy_answer_with_it(web: Web) -> None:
    response = propose(web, "20.00")
    assert banner(web, response) == (
        "A clawback of £20.00 was proposed. A senior officer must approve it before the "
        "holder is told."
    )
    proposal = the_proposal(web)
    assert (proposal.amount, proposal.calculated_amount, proposal.status) == (
        2000, 3350, ClawbackStatus.PROPOSED,
    )  # fmt: skip
    assert proposal.items["surplus"] == 3350 and proposal.proposed_by == OFFICER
    with web.session() as session:
        need = session.execute(select(AdvocacyNeed)).scalar_one()
    assert need.decision == f"clawback:{proposal.id}" and not need.needs_advocate
    # A second proposal for the same budget while one is under way is refused.
    assert "already has a clawback under way" in error_summary(propose(web, "10.00"))


# -- approving ------------------------------------------------------------------------------------


def test_an_officer_cannot_approve_and_is_told_why(web: Web) -> None:
    propose(web, "20.00")
    proposal = the_proposal(web)
    queue = page_text(signed_in(web, OFFICER).get("/officer/approvals"))
    assert "Only a senior officer can approve a clawback." in queue
    page = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "You cannot approve this clawback: Only a senior officer can approve" in page
    response = step(web, proposal.id, "approve", {"reason": "Fine"}, email=OFFICER)
    assert "Only a senior officer can approve a clawback" in error_summary(response)
    assert the_proposal(web).status is ClawbackStatus.PROPOSED


def test_a_proposer_cannot_approve_their_own_clawback_over_the_threshold(web: Web) -> None:
    load_vivian(web, 200000)
    response = propose(web, "2,033.50", email=SENIOR)
    assert "A second officer, a senior officer other than you, must approve it." in banner(
        web, response, SENIOR
    )
    proposal = the_proposal(web)
    assert proposal.needs_second_approval and proposal.amount == 203350
    queue = page_text(signed_in(web, SENIOR).get("/officer/approvals"))
    assert "You proposed it: a clawback over £1,000.00 needs a second officer's approval." in queue
    response = step(web, proposal.id, "approve", {"reason": "Mine"}, email=SENIOR)
    summary = error_summary(response)
    assert "needs a second officer's approval: the proposer cannot approve it" in summary
    assert the_proposal(web).status is ClawbackStatus.PROPOSED
    assert count(web, Notification) == 0

    second = "second.senior@example.org"
    with web.session() as session:
        create_user(
            session,
            web.clock,
            passwords.hasher("cheapest"),
            email=second,
            role=Role.SENIOR_OFFICER,
            password=DEMO_PASSWORD,
        )
        session.commit()
    queue = page_text(signed_in(web, second).get("/officer/approvals"))
    assert "You can approve" in queue
    response = step(web, proposal.id, "approve", {"reason": "Agreed"}, email=second)
    assert banner(web, response, second) == (
        "The clawback was approved and the holder's notice queued. It can be executed once the "
        "notice has been sent and their time to respond is over."
    )
    approved = the_proposal(web)
    assert (approved.status, approved.approved_by) == (ClawbackStatus.APPROVED, second)
    web.signed_in_clients.pop(second)


def test_approval_waits_for_an_advocate_unless_urgent(web: Web) -> None:
    needs = {
        "substantial_difficulty": "yes",
        "appropriate_person": "no",
        "advocacy_note": "Nobody to support her",
    }
    propose(web, "20.00", **needs)
    proposal = the_proposal(web)
    page = page_text(signed_in(web, SENIOR).get(f"/officer/clawbacks/{proposal.id}"))
    assert "Vivian Shaw needs an independent advocate, and none is appointed yet." in page
    response = step(web, proposal.id, "approve", {"reason": "Fine"}, email=SENIOR)
    assert "waits for an independent advocate" in error_summary(response)
    assert the_proposal(web).status is ClawbackStatus.PROPOSED

    response = step(
        web, proposal.id, "advocate", {"advocate_name": "", "reason": "x"}, email=SENIOR
    )
    assert "Enter the advocate's name" in error_summary(response)
    named = {"advocate_name": "Sam Patel (Advocacy Hub)", "reason": "Appointed today"}
    assert banner(web, step(web, proposal.id, "advocate", named, email=SENIOR), SENIOR) == (
        "The advocate was recorded."
    )
    response = step(web, proposal.id, "approve", {"reason": "With Sam"}, email=SENIOR)
    assert the_proposal(web).status is ClawbackStatus.APPROVED, response


def test_an_urgent_approval_does_not_wait_for_the_advocate(web: Web) -> None:
    propose(web, "20.00", substantial_difficulty="yes", appropriate_person="no", advocacy_note="x")
    proposal = the_proposal(web)
    data = {"reason": "Money at risk", "urgent": "y"}
    assert "approved" in banner(web, step(web, proposal.id, "approve", data, email=SENIOR), SENIOR)


def test_an_unanswered_advocacy_question_is_asked_on_the_proposal_page(web: Web) -> None:
    propose(web, "20.00")
    proposal = the_proposal(web)
    with web.session() as session:
        session.execute(AdvocacyNeed.__table__.delete())
        session.commit()
    response = step(web, proposal.id, "approve", {"reason": "Fine"}, email=SENIOR)
    assert "Record whether the person needs an independent advocate" in error_summary(response)
    response = step(web, proposal.id, "advocacy", {"advocacy_note": "x"}, email=SENIOR)
    assert "Say whether the person would have substantial difficulty" in error_summary(response)
    assert count(web, AdvocacyNeed) == 0
    answer = {**NO_ADVOCATE}
    banner(web, step(web, proposal.id, "advocacy", answer, email=SENIOR), SENIOR)
    assert count(web, AdvocacyNeed) == 1


# -- editing down and cancelling ----------------------------------------------------------------


def test_a_clawback_can_only_be_edited_down(web: Web) -> None:
    propose(web, "20.00")
    proposal = the_proposal(web)
    up = step(web, proposal.id, "edit-down", {"amount": "25", "reason": "More"}, email=OFFICER)
    assert "A clawback can only be edited down" in error_summary(up)
    assert the_proposal(web).amount == 2000
    down = step(web, proposal.id, "edit-down", {"amount": "12.50", "reason": "Less"}, email=OFFICER)
    assert banner(web, down) == "The amount was changed."
    assert the_proposal(web).amount == 1250
    text = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "Amount £12.50 (calculated: £33.50)" in text
    assert "Edited down officer@example.org Less" in text


def test_a_cancelled_clawback_frees_the_budget_for_a_new_proposal(web: Web) -> None:
    propose(web, "20.00")
    proposal = the_proposal(web)
    missing = step(web, proposal.id, "cancel", {"reason": ""}, email=OFFICER)
    assert "Enter a reason" in error_summary(missing)
    response = step(web, proposal.id, "cancel", {"reason": "Saving for a holiday"}, email=OFFICER)
    assert banner(web, response) == "The clawback was cancelled."
    assert the_proposal(web).status is ClawbackStatus.CANCELLED
    again = step(web, proposal.id, "cancel", {"reason": "Again"}, email=OFFICER)
    assert "The clawback is cancelled" in error_summary(again)
    assert propose(web, "10.00").status_code == 302
    assert count(web, ClawbackProposal) == 2


def test_an_unknown_step_or_clawback_is_not_found(web: Web) -> None:
    client = signed_in(web, OFFICER)
    assert client.get("/officer/clawbacks/999999").status_code == 404
    propose(web, "20.00")
    proposal = the_proposal(web)
    assert post(web, f"/officer/clawbacks/{proposal.id}/delete", {}).status_code == 404


# -- executing ------------------------------------------------------------------------------------


def _approved(web: Web) -> ClawbackProposal:
    propose(web, "20.00")
    proposal = the_proposal(web)
    step(web, proposal.id, "approve", {"reason": "Agreed"}, email=SENIOR)
    approved = the_proposal(web)
    assert approved.status is ClawbackStatus.APPROVED
    return approved


LETTER = {"sent_on": ["20", "4", "2026"], "reason": "First class post to her home"}


def _notified(web: Web) -> ClawbackProposal:
    """Approved, and a letter recorded as sent today: the holder has until 4 May."""
    proposal = _approved(web)
    response = step(web, proposal.id, "notice-sent", LETTER, email=OFFICER)
    assert banner(web, response) == (
        "The letter was recorded: the holder's time to respond counts from the day it was sent."
    )
    notified = the_proposal(web)
    assert (notified.status, notified.holder_notified_how) == (
        ClawbackStatus.HOLDER_NOTIFIED, "letter",
    )  # fmt: skip
    return notified


def _clawback_transfers(web: Web) -> list[tuple[int, int, int]]:
    with web.session() as session:
        rows = session.execute(
            select(Transfer.debit_account_id, Transfer.credit_account_id, Transfer.amount).where(
                Transfer.code == TransferCode.CLAWBACK
            )
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_nothing_is_recovered_before_the_holders_notice_is_sent(web: Web) -> None:
    proposal = _approved(web)
    with web.session() as session:
        notice = session.execute(select(Notification)).scalar_one()
    assert (notice.person_id, notice.audience) == (web.world.people["DEMO-0007"], "holder")
    page = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "The notice to Vivian Shaw is waiting to be emailed" in page
    response = step(web, proposal.id, "execute", {"reason": "Now"}, email=OFFICER)
    assert "The holder's notice has not been sent yet" in error_summary(response)
    future = {**LETTER, "sent_on": ["21", "4", "2026"]}
    response = step(web, proposal.id, "notice-sent", future, email=OFFICER)
    document = parse_page(response)
    summary = document.find(".//div[@class='govuk-error-summary']//a")
    assert summary is not None and summary.get("href") == "#notice-sent-sent_on"
    assert "between approval and today" in text_of(summary)
    assert the_proposal(web).status is ClawbackStatus.APPROVED
    assert _clawback_transfers(web) == []


def test_an_emailed_notice_opens_the_response_window(web: Web) -> None:
    with web.session() as session:
        vivian = session.get(Person, web.world.people["DEMO-0007"])
        assert vivian is not None
        vivian.email = "vivian@example.org"
        session.commit()
    proposal = _approved(web)
    with web.session() as session:
        sender = RecordingSender()
        dispatch(session, web.clock, sender)
        record_sent_notices(session, web.clock)
        session.commit()
    assert [to for to, _, _ in sender.sent] == ["vivian@example.org"]
    text = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "Holder told by email, 20 April 2026; they can respond until 4 May 2026" in text


def test_execution_waits_for_the_holders_response_window(web: Web) -> None:
    proposal = _notified(web)
    page = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "The money can be recovered after 4 May 2026" in page
    response = step(web, proposal.id, "execute", {"reason": "Now"}, email=OFFICER)
    assert "The holder has until 4 May 2026 to respond" in error_summary(response)
    assert _clawback_transfers(web) == []
    assert count(web, CardCommandRecord, CardCommandRecord.command == "unload") == 0


def test_an_executed_clawback_moves_the_money_once_and_tells_the_provider_once(web: Web) -> None:
    proposal = _notified(web)
    budget = budget_of_vivian(web)
    web.clock.advance(days=15)
    page = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "Recover £20.00" in page
    response = step(web, proposal.id, "execute", {"reason": "Window closed"}, email=OFFICER)
    assert banner(web, response) == "The money was recovered."
    retry = step(web, proposal.id, "execute", {"reason": "Again"}, email=OFFICER)
    assert retry.status_code == 302  # already executed: nothing more happens
    with web.session() as session:
        recoveries = session.execute(
            select(Account.id).where(Account.kind == AccountKind.RECOVERIES)
        ).scalar_one()
        after = session.get(Account, budget.id)
        assert after is not None
        unloads = (
            session.execute(select(CardCommandRecord).where(CardCommandRecord.command == "unload"))
            .scalars()
            .all()
        )
    assert _clawback_transfers(web) == [(budget.id, recoveries, 2000)]
    assert after.posted_balance == budget.posted_balance - 2000
    assert [(u.card_id, u.amount, u.status, u.idempotency_key) for u in unloads] == [
        (web.world.cards["4307"], 2000, CommandStatus.ACCEPTED, f"clawback-unload:{proposal.id}")
    ]
    executed = the_proposal(web)
    assert (executed.status, executed.executed_by) == (ClawbackStatus.EXECUTED, OFFICER)
    text = page_text(signed_in(web, OFFICER).get(f"/officer/clawbacks/{proposal.id}"))
    assert "Recovered by officer@example.org" in text
    assert "Unload: unload of 2000p recorded" in text
    assert "Cancel the clawback" not in text  # nothing more to do


def test_a_holders_response_lets_it_be_executed_before_the_window_ends(web: Web) -> None:
    proposal = _approved(web)
    empty = step(web, proposal.id, "holder-response", {"response": ""}, email=OFFICER)
    assert "Enter what the holder said" in error_summary(empty)
    said = {"response": "Vivian agrees: she has enough for the day centre"}
    assert banner(web, step(web, proposal.id, "holder-response", said, email=OFFICER)) == (
        "The holder's response was recorded."
    )
    response = step(web, proposal.id, "execute", {"reason": "She agreed"}, email=OFFICER)
    assert "The holder's notice has not been sent yet" in error_summary(response)
    step(web, proposal.id, "notice-sent", LETTER, email=OFFICER)
    response = step(web, proposal.id, "execute", {"reason": "She agreed"}, email=OFFICER)
    assert banner(web, response) == "The money was recovered."
    assert len(_clawback_transfers(web)) == 1


def test_execution_never_recovers_more_than_is_available_now(web: Web) -> None:
    proposal = _notified(web)
    web.clock.advance(days=15)
    with web.session() as session:
        # Vivian spends nearly everything before the clawback runs.
        from ledger.card_payments import CardPayments

        payments = CardPayments(session, web.clock)
        result = payments.authorise(
            web.world.cards["4307"], 170000, source="test", key="big", merchant_name="Day centre",
            mcc="8351",
        )  # fmt: skip
        assert result.approved
        session.commit()
    response = step(web, proposal.id, "execute", {"reason": "Window closed"}, email=OFFICER)
    assert "is more than can be recovered now" in error_summary(response)
    assert _clawback_transfers(web) == []
    assert the_proposal(web).status is ClawbackStatus.HOLDER_NOTIFIED


def test_the_approvals_queue_lists_what_waits(web: Web) -> None:
    client = signed_in(web, SENIOR)
    assert "No clawbacks are waiting for approval." in page_text(client.get("/officer/approvals"))
    propose(web, "20.00")
    text = page_text(client.get("/officer/approvals"))
    assert "Clawback" in text and "Vivian Shaw (DEMO-0007)" in text
    assert "officer@example.org, 20 April 2026 £20.00 You can approve" in text
    proposal = the_proposal(web)
    step(web, proposal.id, "approve", {"reason": "Agreed"}, email=SENIOR)
    text = page_text(client.get("/officer/approvals"))
    assert "Their notice has not been sent yet £20.00" in text
    step(web, proposal.id, "notice-sent", LETTER, email=OFFICER)
    text = page_text(client.get("/officer/approvals"))
    assert "They can respond until 4 May 2026 £20.00" in text


@pytest.mark.parametrize(
    "email", ["vivian.shaw@example.org", "john.shaw@example.org", "admin@example.org", None]
)
def test_only_officers_see_or_act_on_a_clawback(web: Web, email: str | None) -> None:
    propose(web, "20.00")
    proposal = the_proposal(web)
    client = signed_in(web, email)
    for path in (f"/officer/clawbacks/{proposal.id}", "/officer/approvals"):
        response = client.get(path)
        assert response.status_code == (302 if email is None else 403)
        assert "£" not in response.get_data(as_text=True)
    if email is not None:
        token = csrf_token(client, "/sign-in")
        response = client.post(
            f"/officer/clawbacks/{proposal.id}/cancel",
            data={"csrf_token": token, "cancel-reason": "Not mine to cancel"},
        )
        assert response.status_code == 403
    assert the_proposal(web).status is ClawbackStatus.PROPOSED


def test_a_clawback_step_without_a_csrf_token_is_refused(web: Web) -> None:
    """The clawback page's forms share the page, so they carry the token the page renders;
    CSRFProtect refuses a POST without it before anything runs."""
    propose(web, "20.00")
    proposal = the_proposal(web)
    client = signed_in(web, SENIOR)
    response = client.post(
        f"/officer/clawbacks/{proposal.id}/cancel", data={"cancel-reason": "Forged"}
    )
    assert response.status_code == 400
    assert the_proposal(web).status is ClawbackStatus.PROPOSED
    document = parse_page(client.get(f"/officer/clawbacks/{proposal.id}"))
    forms = [f for f in document.iter("form") if (f.get("method") or "") == "post"]
    assert len(forms) >= 4  # advocacy, approve, edit down, cancel (and sign out)
