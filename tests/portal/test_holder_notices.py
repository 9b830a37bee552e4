"""Notices from the council, on the holder's side, on the demo world: a proposed recovery
of Vivian's surplus, approved through the clawback service, reaches her as a notice she
can reply to once while its window is open. John, whose companion card draws on her
budget, sees none of it; nor does anyone else."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from ledger.card_payments import CardPayments
from ledger.models import Plan
from monitoring import advocacy
from monitoring.clawback import Clawbacks, record_sent_notices
from monitoring.models import AuditEntry, ClawbackProposal, Notification
from monitoring.notifications import dispatch
from tests.monitoring.fakes import RecordingProvider, RecordingSender
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, parse_page, signed_in

web_module = support.web_module
web = support.web

VIVIAN = "vivian.shaw@example.org"
JOHN = "john.shaw@example.org"
MARGARET = "margaret.hughes@example.org"
RESPOND_BY = date(2026, 5, 4)  # 20 April and the 14 days of the response window


def _recovery_notice(web: Web) -> tuple[int, int]:
    """Vivian's surplus: a £300 recovery proposed and approved (which tells her).
    Returns (proposal id, notice id)."""
    with web.session() as session:
        plan = session.execute(
            select(Plan).where(Plan.person_id == web.world.people["DEMO-0007"])
        ).scalar_one()
        CardPayments(session, web.clock).load(
            plan.budget_account_id, 1_000_000, source="test", key="vivian-surplus"
        )
        claw = Clawbacks(session, web.clock, RecordingProvider())
        proposal = claw.propose(
            plan_id=plan.id, officer="officer@example.org", reason="Surplus", amount=30_000
        )
        advocacy.record_need(
            session,
            web.clock,
            person_id=proposal.person_id,
            decision=f"clawback:{proposal.id}",
            substantial_difficulty=False,
            appropriate_person=True,
            officer="senior.officer@example.org",
            reason="Vivian manages her own affairs",
        )
        claw.approve(proposal.id, officer="senior.officer@example.org", reason="Checked")
        # The notifications job emails the notice; the window opens once it is sent.
        dispatch(session, web.clock, RecordingSender())
        assert record_sent_notices(session, web.clock) == 1
        session.refresh(proposal)
        assert proposal.respond_by == RESPOND_BY
        session.commit()
        notice_id = session.execute(
            select(Notification.id).where(Notification.cause == f"clawback:{proposal.id}")
        ).scalar_one()
        return proposal.id, notice_id


def _proposal(web: Web, proposal_id: int) -> ClawbackProposal:
    with web.session() as session:
        found = session.get(ClawbackProposal, proposal_id)
        assert found is not None
        session.expunge(found)
        return found


def _reply(web: Web, email: str, notice_id: int, text: str) -> tuple[int, str]:
    client = signed_in(web, email)
    path = f"/notices/{notice_id}"
    token = csrf_token(client, "/notices")  # the sign-out form's token works for any form
    response = client.post(path, data={"csrf_token": token, "reply": text})
    if response.status_code == 302:
        return 302, page_text(client.get(response.headers["Location"]))
    if response.status_code == 404:
        return 404, ""
    return response.status_code, page_text(response)


def test_the_holder_sees_the_notice_and_can_reply_within_the_window(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    client = signed_in(web, VIVIAN)
    listing = page_text(client.get("/notices"))
    assert "About the money on your direct payment card" in listing
    assert "You can reply until 4 May 2026" in listing

    page = parse_page(client.get(f"/notices/{notice_id}"))
    text = " ".join(" ".join(page.itertext()).split())
    assert "We plan to return £300.00 of it to the council" in text
    assert "You can reply until the end of 4 May 2026 . You can reply once." in text
    assert page.find(".//form[@method='post']//textarea[@name='reply']") is not None

    status, after = _reply(web, VIVIAN, notice_id, "I am saving for a new wheelchair.")
    assert status == 302
    assert "Thank you. We have your reply and will consider it." in after
    assert "Your reply I am saving for a new wheelchair." in after
    assert "Reply to this notice" not in after
    assert _proposal(web, proposal_id).holder_response == "I am saving for a new wheelchair."
    with web.session() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "clawback_holder_responded")
        ).scalar_one()
        assert (entry.actor, entry.subject_id) == (VIVIAN, proposal_id)
    assert "You replied" in page_text(client.get("/notices"))


def test_a_holder_replies_once(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    assert _reply(web, VIVIAN, notice_id, "First thoughts")[0] == 302
    status, text = _reply(web, VIVIAN, notice_id, "Second thoughts")
    assert status == 409
    assert "You have already replied to this notice" in text
    assert _proposal(web, proposal_id).holder_response == "First thoughts"


def test_an_empty_reply_is_an_error_and_changes_nothing(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    status, text = _reply(web, VIVIAN, notice_id, "   ")
    assert status == 400
    assert "There is a problem Enter your reply" in text
    assert _proposal(web, proposal_id).holder_response is None
    status, text = _reply(web, VIVIAN, notice_id, "x" * 4001)
    assert status == 400 and "Your reply must be 4000 characters or fewer" in text
    assert _proposal(web, proposal_id).holder_response is None


def test_the_window_ends_at_midnight_in_london_on_the_last_day(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    # 11pm BST on 4 May: still the last day.
    web.clock.current = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
    assert "Reply to this notice" in page_text(signed_in(web, VIVIAN).get(f"/notices/{notice_id}"))
    # Midnight BST: 5 May in London, though still 4 May in UTC.
    web.clock.current = datetime(2026, 5, 4, 23, 0, tzinfo=UTC)
    text = page_text(signed_in(web, VIVIAN).get(f"/notices/{notice_id}"))
    assert "The time to reply to this notice ended on 4 May 2026" in text
    assert "Reply to this notice" not in text
    status, text = _reply(web, VIVIAN, notice_id, "Too late?")
    assert status == 409 and "The time to reply to this notice has ended" in text
    assert _proposal(web, proposal_id).holder_response is None


def test_after_the_recovery_the_notice_says_what_was_returned(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    web.clock.current = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
    with web.session() as session:
        Clawbacks(session, web.clock, RecordingProvider()).execute(
            proposal_id, officer="officer@example.org", reason="No reply in the window"
        )
        session.commit()
    text = page_text(signed_in(web, VIVIAN).get(f"/notices/{notice_id}"))
    assert "£300.00 was returned from your card to the council on 6 May 2026" in text
    assert "Reply to this notice" not in text


def test_no_one_else_sees_or_answers_the_notice(web: Web) -> None:
    proposal_id, notice_id = _recovery_notice(web)
    for email in (JOHN, MARGARET):
        client = signed_in(web, email)
        listing = page_text(client.get("/notices"))
        assert "The council has not sent you any notices" in listing
        assert "About the money" not in listing and "£300.00" not in listing
        assert client.get(f"/notices/{notice_id}").status_code == 404
        assert _reply(web, email, notice_id, "Not mine to answer")[0] == 404
    assert _proposal(web, proposal_id).holder_response is None
    officer = signed_in(web, "officer@example.org")
    assert officer.get(f"/notices/{notice_id}").status_code == 403


def test_an_unknown_notice_is_not_found(web: Web) -> None:
    assert signed_in(web, VIVIAN).get("/notices/999999").status_code == 404


def test_notices_are_linked_from_the_cards_pages(web: Web) -> None:
    client = signed_in(web, VIVIAN)
    for path in ("/cards", f"/cards/{web.world.cards['4307']}"):
        page = parse_page(client.get(path))
        links = [a for a in page.iter("a") if a.get("href") == "/notices"]
        assert any("Notices from the council" in "".join(a.itertext()) for a in links), path
    companion = parse_page(signed_in(web, JOHN).get(f"/cards/{web.world.cards['4308']}"))
    assert any(a.get("href") == "/notices" for a in companion.iter("a"))
