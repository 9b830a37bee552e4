"""Holders in a real browser: a carer signs in and checks his balance and payments on a
desktop; a companion, on a phone, sees his card's pot and nothing of the budget it comes
from; the budget owner sees her plan and what the companion spent from her pot. axe
checks every page on the way."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.browser.browser_support import (
    Browsing,
    expect,
    fits_the_width,
    main_text,
    pounds,
    ready,
    screenshot,
    sign_in,
    sign_out,
    submit,
)

pytestmark = pytest.mark.browser

HARRY = "harry.hughes@example.org"
JOHN = "john.shaw@example.org"
VIVIAN = "vivian.shaw@example.org"
MONEY = re.compile(r"£([\d,]+\.\d\d)")


def pence_in(cell: str) -> int:
    found = MONEY.search(cell)
    return int(Decimal(found.group(1).replace(",", "")) * 100) if found else 0


def payment_rows(page) -> list[list[str]]:
    cells = page.locator("table tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))"
    )
    assert cells, f"no payments on {page.url}"
    return cells


def test_a_carer_signs_in_and_checks_his_balance_and_payments(browsing: Browsing) -> None:
    portal = browsing.portal
    account = portal.account_of("4304")  # Harry's carer's card, on his own support plan
    page = browsing.page()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    ready(page, "Sign in")
    screenshot(page, "sign-in")
    browsing.check_accessibility(page)

    sign_in(page, HARRY, "Your cards")
    expect(page).to_have_url(re.compile(r"/cards$"))
    card_summary = page.locator(".govuk-summary-card", has_text="Carer's card ending 4304")
    expect(card_summary).to_contain_text(f"Available to spend {pounds(account.available_balance)}")
    browsing.check_accessibility(page)

    card_summary.get_by_role("link", name="View card").click()
    ready(page, "Carer's card ending 4304")
    text = main_text(page)
    assert f"Available to spend {pounds(account.available_balance)}" in text
    assert f"Waiting to settle {pounds(account.debits_pending)}" in text
    assert f"Balance after settled payments {pounds(account.posted_balance)}" in text
    assert "Next payment from the council" in text
    browsing.check_accessibility(page)
    screenshot(page, "card")

    page.get_by_role("link", name="Payments", exact=True).click()
    ready(page, "Payments")
    rows = payment_rows(page)
    # One page holds them all, and they add up to the balance the ledger keeps.
    expect(page.get_by_role("link", name="Older payments")).to_have_count(0)
    assert account.debits_pending == 0
    money_in = sum(pence_in(row[2]) for row in rows)
    money_out = sum(pence_in(row[3]) for row in rows)
    assert money_in - money_out == account.posted_balance
    browsing.check_accessibility(page)
    screenshot(page, "payments")

    page.get_by_label("Payee, shop or reference").fill("Music Makers")
    submit(page, page.get_by_role("button", name="Search payments"))
    ready(page, "Payments")
    expect(page.locator("table caption")).to_have_text("Payments found")
    found = payment_rows(page)
    assert found == [row for row in rows if "Music Makers" in row[1]] and len(found) == 2
    page.get_by_role("link", name="Clear search").click()
    expect(page.locator("table tbody tr")).to_have_count(len(rows))

    sign_out(page)
    page.goto("/cards")
    expect(page).to_have_url(re.compile(r"/sign-in"))  # signed out means signed out


def test_a_companion_on_a_phone_sees_only_the_pot(browsing: Browsing) -> None:
    portal = browsing.portal
    pot = portal.account_of("4308")  # John's companion card draws on his pot
    budget = portal.account_of("4307")  # Vivian's budget, which the pot is part of
    budget_figures = {pounds(budget.available_balance), pounds(budget.posted_balance)}
    page = browsing.page(phone=True)

    def nothing_of_the_budget() -> str:
        text = main_text(page)
        shown = sorted(f for f in budget_figures if f in text)
        assert not shown, f"{page.url} shows the budget owner's figures {shown}"
        assert "Vivian" not in text
        fits_the_width(page)
        return text

    sign_in(page, JOHN, "Your cards")
    cards = page.locator(".govuk-summary-card")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Companion card ending 4308")
    expect(cards).to_contain_text(f"Available to spend {pounds(pot.available_balance)}")
    nothing_of_the_budget()
    browsing.check_accessibility(page)

    cards.get_by_role("link", name="View card").click()
    ready(page, "Companion card ending 4308")
    text = nothing_of_the_budget()
    assert "Money in the pot" in text
    assert f"Available to spend {pounds(pot.available_balance)}" in text
    assert f"Balance after settled payments {pounds(pot.posted_balance)}" in text
    assert "Next payment from the council" not in text
    expect(page.get_by_role("link", name=re.compile("plan", re.IGNORECASE))).to_have_count(0)
    browsing.check_accessibility(page)
    screenshot(page, "companion-card-phone")

    page.get_by_role("link", name="Payments", exact=True).click()
    ready(page, "Payments")
    text = nothing_of_the_budget()
    assert "Money in and out of John's companion pot" in text
    rows = payment_rows(page)
    assert pot.debits_pending == 0
    money_in = sum(pence_in(row[2]) for row in rows)
    money_out = sum(pence_in(row[3]) for row in rows)
    assert money_in - money_out == pot.posted_balance
    browsing.check_accessibility(page)

    # The budget owner's card and the plan are not there for him, even by address.
    for path in (f"/cards/{portal.cards['4307']}", f"/cards/{portal.cards['4308']}/plan"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        nothing_of_the_budget()
    browsing.check_accessibility(page)

    # On a phone the service navigation folds into a menu (GOV.UK Frontend's script).
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    menu.click()
    sign_out(page)


def test_a_budget_owner_sees_her_plan_and_what_her_companion_spent(browsing: Browsing) -> None:
    portal = browsing.portal
    pot = portal.account_of("4308")
    page = browsing.page()

    sign_in(page, VIVIAN, "Your cards")
    own = page.locator(".govuk-summary-card", has_text="Card ending 4307")
    own.get_by_role("link", name="View card").click()
    ready(page, "Card ending 4307")
    pots = page.locator("main table", has_text="John's companion pot")
    expect(pots).to_contain_text(f"John Shaw {pounds(pot.available_balance)}")
    browsing.check_accessibility(page)

    page.get_by_role("link", name=re.compile(r"^Your plan")).click()
    ready(page, "Your plan")
    spent = page.locator("main table tbody tr")
    expect(spent.filter(has_text="Shopping and outings with John")).to_have_count(1)
    expect(spent.filter(has_text="Cash withdrawals")).to_have_count(1)
    browsing.check_accessibility(page)
    screenshot(page, "plan")

    page.go_back()
    pots.get_by_role("link", name=re.compile(r"^What John Shaw spent")).click()
    ready(page, "Payments")
    expect(page.locator(".govuk-caption-l")).to_have_text("Companion card ending 4308, John Shaw")
    rows = payment_rows(page)
    assert sum(pence_in(r[2]) for r in rows) - sum(pence_in(r[3]) for r in rows) == (
        pot.posted_balance
    )
    assert any("Cash withdrawal" in r[1] for r in rows)
