"""Reviews through the officers' pages, end to end on the demo world: the person page lists
each review (requested, due, decided, outcome); a review's page asks the advocacy question
before the decision, which waits for an independent advocate when one is needed unless it
is urgent; an under-spend flag leads to a review (never a clawback); bad input changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ledger.models import Plan
from monitoring.models import (
    AdvocacyNeed,
    AuditEntry,
    Flag,
    FlagHistory,
    ReviewRequest,
    ReviewStatus,
)
from monitoring.runner import run_monitor
from portal.models import RecordView
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, page_text, parse_page, signed_in, text_of
from tests.portal.test_officer_people_cards import banner, count, error_summary, post

web_module = support.web_module
web = support.web

OFFICER = "officer@example.org"
SENIOR = "senior.officer@example.org"
NO_ADVOCATE = {
    "substantial_difficulty": "no",
    "appropriate_person": "yes",
    "advocacy_note": "Margaret's husband Harry supports her",
}
NEEDS_ADVOCATE = {
    "substantial_difficulty": "yes",
    "appropriate_person": "no",
    "advocacy_note": "Dementia, and no one to support her who is not paid to",
}
DECISION = {"outcome": "The plan stays as it is", "reason": "Her needs are being met"}


def margaret(web: Web) -> int:
    return web.world.people["DEMO-0003"]


def request_review(web: Web, reason: str = "Spending has stopped") -> ReviewRequest:
    """Margaret's plan, asked for on her page (without a flag)."""
    response = post(
        web,
        f"/officer/people/{margaret(web)}/review",
        {"plan": str(margaret_plan(web)), "reason": reason},
    )
    assert response.status_code == 302
    return the_review(web)


def margaret_plan(web: Web) -> int:
    with web.session() as session:
        found: int = session.execute(
            select(Plan.id).where(Plan.person_id == margaret(web))
        ).scalar_one()
    return found


def the_review(web: Web) -> ReviewRequest:
    with web.session() as session:
        return session.execute(select(ReviewRequest)).scalar_one()


def step(web: Web, review_id: int, name: str, data: dict[str, Any], *, email: str = OFFICER) -> Any:
    fields = {f"{name}-{key}": value for key, value in data.items()}
    return post(web, f"/officer/reviews/{review_id}/{name}", fields, email=email)


def review_page(web: Web, review_id: int, email: str = OFFICER) -> str:
    return page_text(signed_in(web, email).get(f"/officer/reviews/{review_id}"))


# -- the person page lists reviews ------------------------------------------------------------


def test_the_person_page_lists_reviews_with_their_outcome(web: Web) -> None:
    review = request_review(web)
    step(web, review.id, "advocacy", NO_ADVOCATE)
    step(web, review.id, "decide", DECISION)
    web.clock.advance(days=1)
    second = post(
        web,
        f"/officer/people/{margaret(web)}/review",
        {"plan": str(margaret_plan(web)), "reason": "Harry asked for one"},
    )
    assert second.status_code == 302
    document = parse_page(signed_in(web, OFFICER).get(f"/officer/people/{margaret(web)}"))
    text = text_of(document)
    # Newest first: the one waiting, then the one decided with its outcome.
    assert (
        f"Review {review.id + 1} 21 April 2026 Harry asked for one 19 May 2026 Requested Not yet "
        f"Review {review.id} 20 April 2026 Spending has stopped 18 May 2026 Decided "
        "20 April 2026 The plan stays as it is"
    ) in text
    links = {text_of(a): a.get("href") for a in document.iter("a")}
    assert links[f"Review {review.id}"] == f"/officer/reviews/{review.id}"


# -- deciding ----------------------------------------------------------------------------------


def test_a_review_is_decided_once_the_advocacy_question_is_answered(web: Web) -> None:
    review = request_review(web)
    page = review_page(web, review.id)
    assert "Status Waiting for a decision" in page
    assert "Requested by officer@example.org, 20 April 2026" in page
    assert "Due by 18 May 2026" in page
    assert "The decision waits until the advocacy question above is answered." in page
    assert "What was decided?" not in page  # no decision form yet

    # Decided before the advocacy question is answered: refused, nothing changed.
    summary = error_summary(step(web, review.id, "decide", DECISION))
    assert "Record whether the person needs an independent advocate" in summary
    assert the_review(web).status is ReviewStatus.REQUESTED

    answer = step(web, review.id, "advocacy", NO_ADVOCATE)
    assert banner(web, answer) == "The answer about advocacy was recorded."
    page = review_page(web, review.id)
    assert "No independent advocate is needed." in page
    assert "What was decided?" in page
    assert "Urgent" not in page  # nothing to wait for

    decided = step(web, review.id, "decide", DECISION)
    assert banner(web, decided) == "The review's decision was recorded."
    found = the_review(web)
    assert (found.status, found.decision, found.decided_by) == (
        ReviewStatus.DECIDED, "The plan stays as it is", OFFICER,
    )  # fmt: skip
    with web.session() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "review_decided")
        ).scalar_one()
    assert entry.reason == "Her needs are being met" and entry.after["urgent"] is False
    page = review_page(web, review.id)
    assert "Status Decided" in page
    assert "Outcome The plan stays as it is" in page
    assert "Why it was decided Her needs are being met" in page
    assert "Record the decision" not in page

    # Decided again: refused, the first decision stands.
    again = step(web, review.id, "decide", {"outcome": "Cut it", "reason": "Again"})
    assert "The review is already decided" in error_summary(again)
    assert the_review(web).decision == "The plan stays as it is"


def test_the_decision_waits_for_an_independent_advocate(web: Web) -> None:
    review = request_review(web)
    step(web, review.id, "advocacy", NEEDS_ADVOCATE)
    page = review_page(web, review.id)
    assert "Margaret Hughes needs an independent advocate, and none is appointed yet." in page
    assert "The decision waits for an independent advocate to be appointed." in page
    assert "Urgent: decide now without waiting for an independent advocate" in page

    waiting = step(web, review.id, "decide", DECISION)
    assert "waits for an independent advocate to be appointed" in error_summary(waiting)
    assert the_review(web).status is ReviewStatus.REQUESTED
    document = parse_page(waiting)
    first = document.find(".//div[@class='govuk-error-summary']//a")
    assert first is not None and first.get("href") == "#decide-urgent"

    nameless = step(web, review.id, "advocate", {"advocate_name": " ", "reason": "x"})
    assert "Enter the advocate's name" in error_summary(nameless)
    named = {"advocate_name": "Sam Patel (Advocacy Hub)", "reason": "Appointed today"}
    assert banner(web, step(web, review.id, "advocate", named)) == "The advocate was recorded."
    page = review_page(web, review.id)
    assert "Sam Patel (Advocacy Hub) was appointed 20 April 2026" in page
    assert "Urgent" not in page

    decided = step(web, review.id, "decide", DECISION)
    assert banner(web, decided) == "The review's decision was recorded."
    assert the_review(web).status is ReviewStatus.DECIDED


def test_an_urgent_decision_does_not_wait_for_the_advocate(web: Web) -> None:
    review = request_review(web)
    step(web, review.id, "advocacy", NEEDS_ADVOCATE)
    urgent = {
        "outcome": "Two more hours of homecare a week from today",
        "reason": "She is not safe at home alone in the evenings",
        "urgent": "y",
    }
    assert banner(web, step(web, review.id, "decide", urgent)) == (
        "The review's decision was recorded."
    )
    found = the_review(web)
    assert found.status is ReviewStatus.DECIDED
    assert found.decision == "Two more hours of homecare a week from today"
    with web.session() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "review_decided")
        ).scalar_one()
    assert entry.after["urgent"] is True
    assert "(urgent, without waiting for an advocate)" in review_page(web, review.id)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("decide", {"reason": "Fine"}, "Enter what was decided"),
        ("decide", {"outcome": "   ", "reason": "Fine"}, "Enter what was decided"),
        ("decide", {"outcome": "Keep it"}, "Enter a reason"),
        ("decide", {"outcome": "x" * 2001, "reason": "r"}, "Enter 2000 characters or fewer"),
        ("advocacy", {"advocacy_note": "x"}, "Say whether the person would have substantial"),
        ("advocacy", {**NO_ADVOCATE, "appropriate_person": "maybe"}, "Not a valid choice"),
        ("advocacy", {**NO_ADVOCATE, "advocacy_note": ""}, "Say how you decided about advocacy"),
        ("advocate", {"advocate_name": "Sam", "reason": "r"}, "Record whether the person"),
    ],
)
def test_bad_input_changes_nothing(web: Web, name: str, data: dict[str, str], message: str) -> None:
    review = request_review(web)
    if name == "decide":
        step(web, review.id, "advocacy", NO_ADVOCATE)
    before = count(web, AdvocacyNeed), count(web, AuditEntry)
    assert message in error_summary(step(web, review.id, name, data))
    assert (count(web, AdvocacyNeed), count(web, AuditEntry)) == before
    found = the_review(web)
    assert (found.status, found.decision, found.decided_at) == (ReviewStatus.REQUESTED, None, None)


def test_an_unknown_review_or_step_is_not_found(web: Web) -> None:
    client = signed_in(web, OFFICER)
    assert client.get("/officer/reviews/999999").status_code == 404
    review = request_review(web)
    assert step(web, review.id, "cancel", {"reason": "x"}).status_code == 404
    assert client.get("/officer/reviews/from-flag/999999").status_code == 404


def test_every_view_of_a_review_is_logged(web: Web) -> None:
    review = request_review(web)
    signed_in(web, SENIOR).get(f"/officer/reviews/{review.id}")
    with web.session() as session:
        views = session.execute(
            select(RecordView.person_id, RecordView.page).where(
                RecordView.page == f"/officer/reviews/{review.id}"
            )
        ).all()
    assert [tuple(v) for v in views] == [(margaret(web), f"/officer/reviews/{review.id}")]


# -- from an under-spend flag -------------------------------------------------------------------


def under_spend_flag(web: Web, reference: str) -> Flag:
    """The flag the under-spend monitor raises on the demo world for this person."""
    with web.session() as session:
        run_monitor(session, web.clock, "under_spend")
        session.commit()
        return session.execute(
            select(Flag).where(
                Flag.monitor == "under_spend", Flag.person_id == web.world.people[reference]
            )
        ).scalar_one()


def test_an_under_spend_flag_leads_to_a_review_not_a_clawback(web: Web) -> None:
    flag = under_spend_flag(web, "DEMO-0004")  # Harry's carer's budget
    harry = web.world.people["DEMO-0004"]
    client = signed_in(web, OFFICER)
    document = parse_page(client.get(f"/officer/flags/{flag.id}"))
    hrefs = [a.get("href") or "" for a in document.iter("a")]
    assert f"/officer/reviews/from-flag/{flag.id}" in hrefs
    assert not [h for h in hrefs if "clawback" in h]

    # No review yet: the link leads to the request form, with the flag's plan chosen.
    lead = client.get(f"/officer/reviews/from-flag/{flag.id}")
    assert lead.status_code == 302
    assert lead.headers["Location"] == f"/officer/people/{harry}/review?flag={flag.id}"
    form = parse_page(client.get(lead.headers["Location"]))
    assert f"Asked for from flag {flag.id}" in text_of(form)
    chosen = form.find(".//input[@name='plan'][@checked]")
    assert chosen is not None and chosen.get("value") == str(flag.subject_id)
    hidden = form.find(".//input[@name='flag']")
    assert hidden is not None and hidden.get("value") == str(flag.id)

    response = post(
        web,
        lead.headers["Location"],
        {"plan": str(flag.subject_id), "reason": "Little spent: are his breaks happening?",
         "flag": str(flag.id)},
    )  # fmt: skip
    review = the_review(web)
    assert response.headers["Location"] == f"/officer/reviews/{review.id}"
    assert banner(web, response).startswith("An unplanned review was requested")
    assert (review.flag_id, review.plan_id, review.person_id) == (flag.id, flag.subject_id, harry)
    with web.session() as session:
        history = (
            session.execute(select(FlagHistory.action).where(FlagHistory.flag_id == flag.id))
            .scalars()
            .all()
        )
    assert "review_requested" in history
    assert f"Flag {flag.id}: Spending well below the plan" in review_page(web, review.id)

    # Now the flag's link leads to that review, where it is decided.
    again = client.get(f"/officer/reviews/from-flag/{flag.id}")
    assert again.headers["Location"] == f"/officer/reviews/{review.id}"
    step(web, review.id, "advocacy", {**NO_ADVOCATE, "advocacy_note": "Harry manages"})
    step(web, review.id, "decide", {"outcome": "Add a sitting service", "reason": "Agreed"})
    assert the_review(web).status is ReviewStatus.DECIDED
    assert count(web, AdvocacyNeed, AdvocacyNeed.decision == f"review:{review.id}") == 1


def test_a_review_cannot_be_tied_to_someone_elses_flag(web: Web) -> None:
    flag = under_spend_flag(web, "DEMO-0004")
    path = f"/officer/people/{margaret(web)}/review"
    assert signed_in(web, OFFICER).get(f"{path}?flag={flag.id}").status_code == 404
    tampered = post(
        web, path, {"plan": str(margaret_plan(web)), "reason": "x", "flag": str(flag.id)}
    )
    assert tampered.status_code == 404
    assert count(web, ReviewRequest) == 0
    with web.session() as session:
        history = (
            session.execute(select(FlagHistory.action).where(FlagHistory.flag_id == flag.id))
            .scalars()
            .all()
        )
    assert "review_requested" not in history
