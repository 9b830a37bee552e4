"""What the browser journeys share: the portal served for real on a free localhost port,
pages in chromium that fail the journey on a CSP violation, a script error or a broken
asset, axe-core on each page, and the docs' screenshots when asked for.

Playwright is imported only where it is used, so that without it the journeys are
collected and skipped with a reason (see conftest.py) rather than failing to import.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from ledger.clock import FixedClock
from ledger.models import Account, Card, Person
from ledger.money import format_pence
from portal.demo import DEMO_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest.py skips every browser test and says why
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Locator,
        Page,
        Response,
    )

ROOT = Path(__file__).resolve().parents[2]
# Debian's package puts it here; DPLEDGER_CHROMIUM names another (or a missing one, to
# see the journeys skipped).
CHROMIUM = Path(os.environ.get("DPLEDGER_CHROMIUM") or "/usr/bin/chromium")
# Debian's chromium, never a downloaded one: headless, and nothing that calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
GOVUK_FRONTEND = ROOT / "portal" / "static" / "govuk" / "govuk-frontend.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# Generous for a busy two-core machine; a page here normally answers in milliseconds.
TIMEOUT_MS = 15_000


# -- the portal, served --------------------------------------------------------------------


@dataclass
class LivePortal:
    """The app served over HTTP on 127.0.0.1, over a database its requests commit to."""

    url: str
    sessions: sessionmaker[Session]
    clock: FixedClock
    people: dict[str, int]  # council reference -> person id
    cards: dict[str, int]  # last four digits -> card id

    def session(self) -> Session:
        return self.sessions()

    def card(self, last4: str) -> Card:
        with self.sessions() as session:
            card = session.get(Card, self.cards[last4])
            assert card is not None
            return card

    def account_of(self, last4: str) -> Account:
        """The ledger account the card draws on (a companion card's is its pot)."""
        with self.sessions() as session:
            account = session.get(Account, self.card(last4).account_id)
            assert account is not None
            return account


def demo_ids(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    people = {r[0]: r[1] for r in session.execute(select(Person.council_reference, Person.id))}
    cards = {r[0]: r[1] for r in session.execute(select(Card.last4, Card.id))}
    return people, cards


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug on a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# -- pages ---------------------------------------------------------------------------------


class Browsing:
    """Browser contexts for one test. Each page is watched: a CSP violation, a script
    error or a subresource (CSS, JavaScript, image) that fails is a problem, and the test
    fails at its end if there was any."""

    def __init__(self, browser: Browser, portal: LivePortal) -> None:
        self.browser = browser
        self.portal = portal
        self.problems: list[str] = []
        self._contexts: list[BrowserContext] = []
        self._accessibility: Accessibility | None = None

    def page(self, *, phone: bool = False) -> Page:
        """A new page in a context of its own (its own cookies), CSP enforced."""
        context = self.browser.new_context(
            base_url=self.portal.url,
            viewport=PHONE if phone else DESKTOP,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("response", self._response)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP violation: {message.text}")

    def _response(self, response: Response) -> None:
        request = response.request
        if request.resource_type != "document" and response.status >= 400:
            self.problems.append(f"{request.resource_type} {request.url}: {response.status}")

    @property
    def accessibility(self) -> Accessibility:
        if self._accessibility is None:
            self._accessibility = Accessibility(self.browser, self.portal.url)
            self._contexts.append(self._accessibility.context)
        return self._accessibility

    def check_accessibility(
        self, page: Page, *, prepare: Callable[[Page], None] | None = None
    ) -> None:
        self.accessibility.check(page, prepare=prepare)

    def close(self) -> None:
        for context in self._contexts:
            context.close()


def ready(page: Page, heading: str | re.Pattern[str]) -> None:
    """The page with this <h1> (its only one) has come, it has a title, and GOV.UK
    Frontend's module script ran on it under the CSP (it marks the body). Waiting for the
    heading first means what follows reads the new page, not the one clicked on."""
    assert expect is not None
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("h1")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"\S"))
    expect(page.locator("body.govuk-frontend-supported")).to_be_attached()


def submit(page: Page, button: Locator) -> None:
    """Press a form's button and wait for the answer to load: for forms whose answer has
    the same <h1> as the form (a search, an error summary, a banner on the same page)."""
    with page.expect_navigation():
        button.click()


def sign_in(page: Page, email: str, start: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in page, as a person would, landing on ``start`` (the
    <h1> of where their role starts)."""
    page.goto("/sign-in")
    ready(page, "Sign in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    ready(page, start)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    ready(page, "Sign in")


def main_text(page: Page) -> str:
    """The words in <main>, whitespace collapsed, as a person reads them."""
    return " ".join(page.locator("main").inner_text().split())


def pounds(pence: int) -> str:
    return format_pence(pence)


def fits_the_width(page: Page) -> None:
    """Nothing scrolls sideways: the page works on a phone without zooming out."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px window"


# -- accessibility -------------------------------------------------------------------------

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')),
  }));
}"""
FAILING_IMPACTS = ("serious", "critical")


@dataclass
class Accessibility:
    """axe-core on the journeys' pages.

    Playwright's ``add_script_tag`` puts axe into the page as an inline <script>, which
    the portal's CSP (``script-src 'self'``) rightly refuses; so axe runs in a context of
    its own created with ``bypass_csp=True``. The journeys' own pages keep the CSP, so
    they still prove every page works under it. This context is given the journey's
    cookies and opens the same address (GET) with every <details> opened, so the forms
    folded inside them are checked too; ``prepare`` can then drive it into a state such
    as a form's error summary. (So an officer's record page checked here is viewed, and
    logged, twice.) Moderate and minor findings are not failures: the one axe reports
    on these pages is GOV.UK's back link standing outside the landmarks, where the
    Design System puts it.
    """

    browser: Browser
    base_url: str
    context: BrowserContext = field(init=False)
    page: Page = field(init=False)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(
            base_url=self.base_url, bypass_csp=True, locale="en-GB"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()

    def check(self, page: Page, *, prepare: Callable[[Page], None] | None = None) -> None:
        self.context.clear_cookies()
        self.context.add_cookies(page.context.cookies())
        viewport = page.viewport_size
        if viewport:
            self.page.set_viewport_size(viewport)
        self.page.goto(page.url)
        if prepare is not None:
            prepare(self.page)
        self.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        self.page.add_script_tag(path=AXE_SCRIPT)
        violations: list[dict[str, Any]] = self.page.evaluate(AXE_RUN)
        self.checked.append(self.page.url)
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, describe(self.page.url, failing)


def describe(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe found serious or critical accessibility problems on {url}:"]
    for v in violations:
        lines.append(f"  {v['impact']} {v['id']}: {v['help']}")
        lines.extend(f"    at {target}" for target in v["nodes"][:5])
    return "\n".join(lines)


# -- screenshots ---------------------------------------------------------------------------


def screenshots_wanted() -> bool:
    return os.environ.get("DPLEDGER_SCREENSHOTS") == "1"


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png, the whole page: only when DPLEDGER_SCREENSHOTS=1
    (``make screenshots``), so an ordinary test run leaves the tree alone."""
    if not screenshots_wanted():
        return
    page.mouse.move(0, 0)  # no hover underline where the last click was
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled", caret="hide"
    )
