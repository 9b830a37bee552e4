"""The app as production builds it: from a config naming the database, with its own
engine and real commits, over the demo population loaded into that database.

Every demo card appears on its holder's record with the balances the ledger holds,
formatted as pounds (worked out here with ``Decimal``, not with the app's own filter).
Pages are parsed strictly (see ``tests.portal.portal_support.parse_page``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.models import Card, Person
from ledger.service import Ledger
from portal import config as portal_config
from portal.app import create_app
from portal.auth import passwords
from portal.demo import load_demo
from tests.portal.portal_support import WEB_NOW, parse_page, sign_in, text_of


@dataclass
class Site:
    app: Flask
    sessions: sessionmaker[Session]


@pytest.fixture()
def site(engine: Engine, committed: sessionmaker[Session]) -> Iterator[Site]:
    clock = FixedClock(WEB_NOW)
    with committed() as session, session.begin():
        load_demo(
            session,
            clock.now().date(),
            password_hasher=passwords.hasher(portal_config.TestConfig.ARGON2_PROFILE),
        )
    config = portal_config.TestConfig()
    config.DATABASE_URL = engine.url.render_as_string(hide_password=False)
    app = create_app(config, clock=clock)
    try:
        yield Site(app, committed)
    finally:
        app.extensions["dpledger.engine"].dispose()


def pounds(pence: int) -> str:
    """£1,234.56 (and -£12.00), the way pages show money."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{Decimal(abs(pence)) / 100:,.2f}"


@pytest.mark.parametrize(
    ("pence", "shown"),
    [(0, "£0.00"), (5, "£0.05"), (143300, "£1,433.00"), (123456789, "£1,234,567.89")],
)
def test_pounds_is_an_independent_oracle(pence: int, shown: str) -> None:
    assert pounds(pence) == shown


def test_a_visitor_is_sent_to_sign_in(site: Site) -> None:
    client = site.app.test_client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in")
    page = parse_page(client.get("/sign-in"))
    assert "Sign in" in text_of(page)


def card_rows(page: Element) -> dict[str, list[str]]:
    """The cards table of a person's record: cells by the card's last four digits."""
    rows = {}
    for row in page.iter("tr"):
        cells = [text_of(cell) for cell in row if cell.tag in ("td", "th")]
        if cells and " card ending " in cells[0]:
            rows[cells[0].rsplit(" ", 1)[1]] = cells
    return rows


def test_every_demo_card_is_shown_with_the_ledgers_balances(site: Site) -> None:
    with site.sessions() as session:
        ledger = Ledger(session)
        cards = session.execute(
            select(Card, Person).join(Person, Person.id == Card.holder_id).order_by(Card.id)
        ).all()
        expected = {
            card.last4: (person.id, ledger.balances(card.account_id)) for card, person in cards
        }
    assert len(expected) == 7, "the demo has seven cards"
    assert any(b.pending_debits for _, b in expected.values()), "the demo has a hold"
    assert any(b.posted >= 100_000 for _, b in expected.values()), "and four-figure balances"

    client = site.app.test_client()
    sign_in(client, "officer@example.org")
    start = parse_page(client.get("/", follow_redirects=True))
    for person_id, _ in expected.values():
        assert start.find(f".//a[@href='/officer/people/{person_id}']") is not None

    for last4, (person_id, balances) in expected.items():
        response = client.get(f"/officer/people/{person_id}")
        assert response.status_code == 200
        rows = card_rows(parse_page(response))
        assert last4 in rows, f"card ending {last4} is not on its holder's record"
        assert rows[last4][3:6] == [
            pounds(balances.available),
            pounds(balances.pending_debits),
            pounds(balances.posted),
        ], f"card ending {last4}"
