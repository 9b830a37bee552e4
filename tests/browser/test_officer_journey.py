"""Officers in a real browser: an officer triages a flag from the queue, suspends the
card it is about, and proposes a clawback of the surplus; a second officer, a senior
officer, approves it from the approvals queue. Each step is checked in the database
too, and axe checks every page on the way (forms folded in <details> opened, and a
form's error summary)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ledger.models import Card, CardStatus
from monitoring.models import ClawbackProposal, ClawbackStatus, Flag, FlagStatus
from tests.browser.browser_support import (
    Browsing,
    LivePortal,
    expect,
    main_text,
    ready,
    screenshot,
    sign_in,
    sign_out,
    submit,
)

pytestmark = pytest.mark.browser

OFFICER = "officer@example.org"
SENIOR = "senior.officer@example.org"
# Raised about Vivian Shaw: the cash was taken with John's companion card on her budget.
CASH_AT_NIGHT = "4 cash withdrawals between 0:00 and 5:00"


def flag_titled(portal: LivePortal, title: str) -> Flag:
    with portal.session() as session:
        return session.execute(select(Flag).where(Flag.title == title)).scalar_one()


def open_flags(portal: LivePortal) -> int:
    with portal.session() as session:
        return session.execute(
            select(func.count()).where(Flag.status.in_([FlagStatus.OPEN, FlagStatus.IN_REVIEW]))
        ).scalar_one()


def card_status(portal: LivePortal, last4: str) -> CardStatus:
    with portal.session() as session:
        card = session.get(Card, portal.cards[last4])
        assert card is not None
        return card.status


def proposals(portal: LivePortal) -> list[ClawbackProposal]:
    with portal.session() as session:
        return list(session.execute(select(ClawbackProposal)).scalars())


def banner(page) -> str:
    notice = page.locator(".govuk-notification-banner")
    expect(notice).to_be_visible()
    return " ".join(notice.inner_text().split())


def test_an_officer_triages_suspends_and_proposes_and_a_senior_officer_approves(
    browsing: Browsing,
) -> None:
    portal = browsing.portal
    flag = flag_titled(portal, CASH_AT_NIGHT)
    assert flag.person_id == portal.people["DEMO-0007"] and flag.status is FlagStatus.OPEN
    page = browsing.page()

    sign_in(page, OFFICER, "People")
    browsing.check_accessibility(page)
    screenshot(page, "officer-start")

    # The queue: every open flag, most urgent first; then only the high ones.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Flags").click()
    ready(page, "Flags")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(open_flags(portal))
    expect(rows.filter(has_text=CASH_AT_NIGHT)).to_contain_text("Vivian Shaw")
    browsing.check_accessibility(page)
    screenshot(page, "officer-flags")

    page.get_by_role("checkbox", name="High", exact=True).check()
    submit(page, page.get_by_role("button", name="Apply filters"))
    ready(page, "Flags")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(CASH_AT_NIGHT)
    expect(rows).to_contain_text("High")

    # The flag's page, and a review started from it.
    rows.get_by_role("link", name=CASH_AT_NIGHT).click()
    ready(page, CASH_AT_NIGHT)
    text = main_text(page)
    for part in ("Evidence", "The plan", "Balance over the last", "Take action"):
        assert part in text, part
    browsing.check_accessibility(page)
    screenshot(page, "officer-flag")

    review = page.locator("details#review")
    review.locator("summary").click()
    review.get_by_label("Reason").fill("Cash taken at night: checking with Vivian first")
    submit(page, review.get_by_role("button", name="Start review"))
    ready(page, CASH_AT_NIGHT)
    banner(page)
    assert "In review" in main_text(page)
    triaged = flag_titled(portal, CASH_AT_NIGHT)
    assert triaged.status is FlagStatus.IN_REVIEW and triaged.assignee == OFFICER

    # The companion card the cash came from, suspended: first without a reason (refused,
    # nothing changes), then with one.
    expect(page.locator("main")).to_contain_text("Companion card ending 4308")
    page.get_by_role("link", name="Vivian Shaw").first.click()
    ready(page, "Vivian Shaw")
    page.get_by_role("link", name="Companion card ending 4308").click()
    ready(page, "Companion card ending 4308")
    ledger = page.locator("main table", has_text="Cash withdrawal")
    expect(ledger.locator("tbody tr", has_text="Cash withdrawal")).not_to_have_count(0)
    browsing.check_accessibility(page)
    screenshot(page, "officer-card")

    page.get_by_role("button", name="Suspend the card").click()
    ready(page, "Suspend the card")
    browsing.check_accessibility(page)
    suspend = page.get_by_role("button", name="Suspend the card")
    submit(page, suspend)
    ready(page, "Suspend the card")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a reason")
    expect(summary).to_be_focused()  # GOV.UK Frontend moved focus to it, under the CSP
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert card_status(portal, "4308") is CardStatus.ACTIVE
    browsing.check_accessibility(
        page, prepare=lambda p: p.get_by_role("button", name="Suspend the card").click()
    )

    page.get_by_label("Why are you suspending the card?").fill(
        "Cash taken at night while the flag is reviewed"
    )
    suspend.click()
    ready(page, "Companion card ending 4308")
    assert "The card ending 4308 is suspended: new payments are declined" in banner(page)
    expect(page.locator(".govuk-warning-text")).to_contain_text("This card is suspended")
    assert card_status(portal, "4308") is CardStatus.SUSPENDED
    assert card_status(portal, "4307") is CardStatus.ACTIVE  # Vivian's own card is not

    # The surplus the monitors found, proposed as a clawback with the advocacy answer.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    ready(page, "People")
    page.get_by_role("link", name="Vivian Shaw", exact=True).click()
    ready(page, "Vivian Shaw")
    page.get_by_role("link", name=re.compile(r"^See the surplus calculation")).click()
    ready(page, "Propose a clawback")
    # Offered: the surplus the monitor found (its flag names the same figure).
    amount = page.get_by_label("Amount to recover").input_value()
    surplus = flag_titled(portal, f"Surplus of £{amount} above 8 weeks")
    assert surplus.person_id == portal.people["DEMO-0007"]
    browsing.check_accessibility(page)

    page.get_by_role("group", name=re.compile("substantial difficulty")).get_by_label("No").check()
    page.get_by_role("group", name=re.compile("appropriate person")).get_by_label("Yes").check()
    page.get_by_label("How did you decide?").fill("Vivian manages her own affairs")
    page.get_by_label("Why recover this money?").fill("More than eight weeks of budget")
    page.get_by_role("button", name="Propose the clawback").click()
    ready(page, re.compile(r"^Clawback \d+: £"))
    assert f"A clawback of £{amount} was proposed" in banner(page)
    (proposal,) = proposals(portal)
    assert proposal.status is ClawbackStatus.PROPOSED and proposal.proposed_by == OFFICER
    browsing.check_accessibility(page)

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Approvals").click()
    ready(page, "Approvals")
    waiting = page.locator("main table").first.locator("tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Only a senior officer can approve a clawback.")
    sign_out(page)

    # A second officer, a senior officer, approves it.
    page = browsing.page()
    sign_in(page, SENIOR, "People")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Approvals").click()
    ready(page, "Approvals")
    waiting = page.locator("main table").first.locator("tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("You can approve")
    expect(waiting).to_contain_text("Vivian Shaw")
    browsing.check_accessibility(page)
    screenshot(page, "officer-approvals")

    waiting.get_by_role("link", name=re.compile(rf"^Clawback {proposal.id}\b")).click()
    ready(page, re.compile(rf"^Clawback {proposal.id}: £"))
    approve_button = page.get_by_role("button", name="Approve and tell the holder")
    approve = page.locator("form", has=approve_button)
    approve.get_by_label("Reason").fill("Checked the calculation: well over eight weeks")
    submit(page, approve_button)
    ready(page, re.compile(rf"^Clawback {proposal.id}: £"))
    assert "The clawback was approved and the holder's notice queued." in banner(page)
    (approved,) = proposals(portal)
    assert approved.approved_by == SENIOR
    assert approved.status in (ClawbackStatus.APPROVED, ClawbackStatus.HOLDER_NOTIFIED)
    browsing.check_accessibility(page)
