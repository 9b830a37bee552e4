"""Fixtures and helpers for the portal's page tests.

The demo population (people, plans, cards, ten weeks of history, sign-ins) is built once
per test module inside a transaction on one connection; the app under test uses that
connection, and each test runs in a savepoint of its own that is rolled back, so a test
may sign in, fail sign-ins or reset passwords without affecting the next. Requests still
commit (their commits release savepoints), exactly as the app does in production.

Pages are parsed strictly (html5lib): a parse error, a missing <title>, a duplicate id, a
POST form without a CSRF token or without an action, or headings out of order fail.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from ledger.clock import FixedClock
from ledger.models import Card, Person
from monitoring.models import Notification
from portal.app import create_app
from portal.auth import passwords
from portal.auth.service import PASSWORD_RESET_CAUSE
from portal.config import TestConfig
from portal.demo import DEMO_PASSWORD, load_demo
from portal.models import User

# A Monday in April (British Summer Time), in the middle of the demo's third period.
WEB_NOW = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)


@dataclass
class DemoWorld:
    """Ids of the demo's people, cards and sign-ins, by the names tests use."""

    people: dict[str, int]  # council reference -> person id
    cards: dict[str, int]  # last four digits -> card id
    users: dict[str, int]  # email -> user id


@dataclass
class Web:
    app: Flask
    clock: FixedClock
    sessions: sessionmaker[Session]
    world: DemoWorld
    # Clients already signed in, one per email, shared by the module's tests: what a test
    # changes is rolled back, so the session each holds stays good.
    signed_in_clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def session(self) -> Session:
        return self.sessions()


@pytest.fixture(scope="module")
def web_module(engine: Engine) -> Iterator[Web]:
    connection = engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    clock = FixedClock(WEB_NOW)
    with sessions() as session:
        load_demo(
            session,
            clock.now().date(),
            password_hasher=passwords.hasher(TestConfig.ARGON2_PROFILE),
        )
        session.commit()
        world = _world(session)
    app = create_app(TestConfig(), sessions=sessions, clock=clock)
    try:
        yield Web(app, clock, sessions, world)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture()
def web(web_module: Web) -> Iterator[Web]:
    """The module's app and world, with this test's changes rolled back afterwards."""
    connection: Connection = web_module.sessions.kw["bind"]
    savepoint = connection.begin_nested()
    web_module.clock.current = WEB_NOW
    try:
        yield web_module
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        web_module.clock.current = WEB_NOW


def _world(session: Session) -> DemoWorld:
    return DemoWorld(
        people={r[0]: r[1] for r in session.execute(select(Person.council_reference, Person.id))},
        cards={r[0]: r[1] for r in session.execute(select(Card.last4, Card.id))},
        users={r[0]: r[1] for r in session.execute(select(User.email, User.id))},
    )


# -- signing in ------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    page = client.get(path).get_data(as_text=True)
    found = _CSRF.search(page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(
    client: FlaskClient, email: str, password: str = DEMO_PASSWORD, *, expect_ok: bool = True
) -> TestResponse:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    if expect_ok:
        assert response.status_code == 302, response.get_data(as_text=True)
    return response


def signed_in(web: Web, email: str | None) -> FlaskClient:
    """A client signed in as ``email`` (anonymous for None), reused within the module."""
    if email is None:
        return web.client()
    if email not in web.signed_in_clients:
        client = web.client()
        sign_in(client, email)
        web.signed_in_clients[email] = client
    return web.signed_in_clients[email]


# -- checking pages ----------------------------------------------------------------------


def parse_page(response: TestResponse) -> Element:
    """Parse a page strictly and check what every page must have."""
    assert response.mimetype == "text/html"
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document: Element = parser.parse(response.get_data(as_text=True))
    title = document.find(".//title")
    assert title is not None and (title.text or "").strip(), "a page needs a <title>"
    ids = [element.get("id") for element in document.iter() if element.get("id")]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"
    for form in document.iter("form"):
        assert form.get("action"), "every form needs an action"
        if (form.get("method") or "get").lower() == "post":
            token = form.find(".//input[@name='csrf_token']")
            assert token is not None and token.get("value"), "a POST form needs a CSRF token"
    headings = [int(e.tag[1]) for e in document.iter() if re.fullmatch(r"h[1-6]", str(e.tag))]
    assert headings.count(1) == 1, f"one <h1> per page, found {headings.count(1)}"
    for before, after in itertools.pairwise(headings):
        assert after <= before + 1, f"heading levels skip: {headings}"
    assert document.find(".//main[@id='main-content']") is not None
    assert document.find(".//a[@href='#main-content']") is not None, "a skip link"
    return document


def text_of(element: Element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def page_text(response: TestResponse) -> str:
    return text_of(parse_page(response))


def reset_link(web: Web, email: str) -> str:
    """The path of the latest password reset link emailed to ``email`` (from the
    notification outbox, as the holder would read it)."""
    with web.session() as session:
        body = session.execute(
            select(Notification.body)
            .where(Notification.to_address == email, Notification.cause == PASSWORD_RESET_CAUSE)
            .order_by(Notification.id.desc())
        ).scalar()
    assert body is not None
    found = re.search(r"http://localhost(/reset-password/\S+)", body)
    assert found
    return found.group(1)
