"""Holder pages, rendered and parsed: cards, balances, payments, plan, statements.

The demo (built for 20 April 2026) has three 4-weekly periods: 9 February, 9 March and
6 April 2026, so today is in period 3 and the next load is on 4 May 2026.
"""

from __future__ import annotations

import csv
import io

from tests.portal import portal_support as support
from tests.portal.portal_support import Web, page_text, parse_page, signed_in, text_of

web_module = support.web_module
web = support.web

MARGARET = "margaret.hughes@example.org"
HARRY = "harry.hughes@example.org"
VIVIAN = "vivian.shaw@example.org"
JOHN = "john.shaw@example.org"


def test_signed_out_visitors_start_at_the_sign_in_page(web: Web) -> None:
    client = web.client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "Sign in" in page_text(client.get("/sign-in"))


def test_a_holder_starts_at_their_cards(web: Web) -> None:
    client = signed_in(web, MARGARET)
    response = client.get("/")
    assert (response.status_code, response.headers["Location"]) == (302, "/cards")
    text = page_text(client.get("/cards"))
    assert "Card ending 4303" in text
    assert "£797.50" in text  # available: posted £810.00 less a £12.50 hold
    assert "Greg" not in text and "Vivian" not in text


def test_the_card_page_shows_available_pending_and_posted_balances(web: Web) -> None:
    client = signed_in(web, MARGARET)
    text = page_text(client.get(f"/cards/{web.world.cards['4303']}"))
    assert "Available to spend £797.50" in text
    assert "Waiting to settle £12.50" in text
    assert "Balance after settled payments £810.00" in text
    assert "The council plans to pay £1,800.00 onto your card on 4 May 2026" in text


def test_a_budget_owner_sees_the_companion_pot_and_what_was_spent_from_it(web: Web) -> None:
    client = signed_in(web, VIVIAN)
    cards = page_text(client.get("/cards"))
    assert "Card ending 4307" in cards
    assert "Companion cards on your budget" in cards
    assert "Companion card ending 4308" in cards
    own = page_text(client.get(f"/cards/{web.world.cards['4307']}"))
    assert "John's companion pot John Shaw £84.00" in own
    spent = page_text(client.get(f"/cards/{web.world.cards['4308']}/payments"))
    assert "Greenway Garden Centre" in spent
    assert "Cash machine" in spent


def test_a_companion_sees_only_the_pot_and_their_own_payments(web: Web) -> None:
    client = signed_in(web, JOHN)
    cards = page_text(client.get("/cards"))
    assert "Companion card ending 4308" in cards
    assert "4307" not in cards
    card = page_text(client.get(f"/cards/{web.world.cards['4308']}"))
    assert "Money in the pot" in card
    assert "Available to spend £84.00" in card
    assert "plan" not in card.lower()  # the plan is Vivian's
    assert "£2,149.50" not in card  # Vivian's budget
    payments = page_text(client.get(f"/cards/{web.world.cards['4308']}/payments"))
    assert "Greenway Garden Centre" in payments
    assert "Riverside Day Centre" not in payments  # Vivian's own card spend
    assert "Town Taxis" not in payments
    assert client.get(f"/cards/{web.world.cards['4308']}/plan").status_code == 404


def test_a_carer_sees_their_own_carers_card_and_plan(web: Web) -> None:
    client = signed_in(web, HARRY)
    card_id = web.world.cards["4304"]
    assert "Carer's card ending 4304" in page_text(client.get("/cards"))
    plan = page_text(client.get(f"/cards/{card_id}/plan"))
    assert "Your carer's support plan pays £400.00 every 4 weeks" in plan
    assert "An organ and headphones £400.00 (once) £389.99 £10.01" in plan


def test_payments_are_listed_newest_first_with_holds_marked(web: Web) -> None:
    client = signed_in(web, MARGARET)
    document = parse_page(client.get(f"/cards/{web.world.cards['4303']}/payments"))
    rows = [text_of(row) for row in document.iterfind(".//tbody/tr")]
    assert rows[0] == "17 April 2026 Card spend: Lloyds Pharmacy Waiting to settle £12.50"
    assert rows[-1] == "9 February 2026 Load: 4-weekly load 1 £1,800.00"
    assert len(rows) == 10


def test_payments_search_by_payee_text_and_dates(web: Web) -> None:
    client = signed_in(web, MARGARET)
    url = f"/cards/{web.world.cards['4303']}/payments"
    found = parse_page(
        client.get(url, query_string={"text": "BRIGHT", "date_from": ["1", "3", "2026"]})
    )
    rows = [text_of(row) for row in found.iterfind(".//tbody/tr")]
    assert rows == [
        "11 April 2026 Direct debit: Brightwell Homecare Ltd £1,650.00",
        "14 March 2026 Direct debit: Brightwell Homecare Ltd £1,650.00",
    ]
    until = parse_page(client.get(url, query_string={"date_to": ["9", "2", "2026"], "text": ""}))
    assert [text_of(r) for r in until.iterfind(".//tbody/tr")] == [
        "9 February 2026 Load: 4-weekly load 1 £1,800.00"
    ]
    nothing = page_text(client.get(url, query_string={"text": "%"}))
    assert "No payments match your search" in nothing


def test_an_impossible_date_is_an_error_not_a_crash(web: Web) -> None:
    client = signed_in(web, MARGARET)
    url = f"/cards/{web.world.cards['4303']}/payments"
    for parts in (["31", "2", "2026"], ["31", "12", "9999"], ["x", "1", "2026"]):
        response = client.get(url, query_string={"date_to": parts})
        assert response.status_code == 400
        assert "To must be a real date" in page_text(response)


def test_a_half_filled_date_is_an_error_summary_not_a_crash(web: Web) -> None:
    client = signed_in(web, MARGARET)
    response = client.get(
        f"/cards/{web.world.cards['4303']}/payments",
        query_string={"date_from": ["1", "", "2026"]},
    )
    assert response.status_code == 400
    document = parse_page(response)
    summary = document.find(".//div[@class='govuk-error-summary']")
    assert summary is not None
    assert "From must include a day, month and year" in text_of(summary)
    assert document.find(".//title").text.startswith("Error: ")


def test_the_plan_in_plain_words_with_spend_against_each_line(web: Web) -> None:
    client = signed_in(web, VIVIAN)
    text = page_text(client.get(f"/cards/{web.world.cards['4307']}/plan"))
    assert "Your care and support plan pays £880.00 every 4 weeks" in text
    assert "This period runs from 6 April 2026 to 3 May 2026" in text
    # The day centre and taxis on Vivian's card; John's garden centre from his pot.
    assert "Day centre £480.00 £45.00 £435.00" in text
    assert "Taxis to the day centre £200.00 £18.50 £181.50" in text
    assert "Shopping and outings with John £200.00 £32.00 £168.00" in text
    assert "Cash withdrawals £50.00 £40.00 £10.00" in text
    assert "The council plans to pay £880.00 onto your card on 4 May 2026" in text


def test_contributions_due_and_paid_per_period(web: Web) -> None:
    client = signed_in(web, MARGARET)
    document = parse_page(client.get(f"/cards/{web.world.cards['4303']}/plan"))
    text = text_of(document)
    assert "You pay £120.00 into your card every 4 weeks" in text
    tables = [t for t in document.iterfind(".//table") if "Contributions" in text_of(t)]
    rows = [text_of(r) for r in tables[0].iterfind(".//tbody/tr")]
    assert rows == [
        "6 April 2026 to 3 May 2026 £120.00 £120.00 Nothing",
        "9 March 2026 to 5 April 2026 £120.00 £120.00 Nothing",
        "9 February 2026 to 8 March 2026 £120.00 £120.00 Nothing",
    ]


def test_statements_per_period_as_csv_and_pdf(web: Web) -> None:
    client = signed_in(web, MARGARET)
    card_id = web.world.cards["4303"]
    text = page_text(client.get(f"/cards/{card_id}/statements"))
    assert "Period 3: 6 April 2026 to 3 May 2026" in text
    assert "Period 1: 9 February 2026 to 8 March 2026" in text

    response = client.get(f"/cards/{card_id}/statements/3.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["Date", "Description", "Money in", "Money out", "Balance"],
        ["2026-04-06", "Opening balance", "", "", "540.00"],
        ["2026-04-06", "Load: 4-weekly load 3", "1800.00", "", "2340.00"],
        ["2026-04-08", "Contribution", "120.00", "", "2460.00"],
        ["2026-04-11", "Direct debit: Brightwell Homecare Ltd", "", "1650.00", "810.00"],
        ["2026-05-03", "Closing balance", "", "", "810.00"],
    ]

    pdf = client.get(f"/cards/{card_id}/statements/3.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")

    assert client.get(f"/cards/{card_id}/statements/4.csv").status_code == 404  # not yet
    assert client.get(f"/cards/{card_id}/statements/0.pdf").status_code == 404


def test_a_companion_gets_statements_of_the_pot_only(web: Web) -> None:
    client = signed_in(web, JOHN)
    response = client.get(f"/cards/{web.world.cards['4308']}/statements/3.csv")
    body = response.get_data(as_text=True)
    assert "Greenway Garden Centre" in body
    assert "Brightwell" not in body and "Day Centre" not in body
