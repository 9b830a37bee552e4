"""Journeys in a real browser: Debian's chromium (``/usr/bin/chromium``, never a
downloaded one) driven by Playwright, against the portal served by werkzeug on a free
localhost port.

The database is the test run's own (``engine`` in tests/conftest.py: a temporary SQLite
file migrated with Alembic, or the PostgreSQL database DATABASE_URL names, whose schema
that fixture has already dropped and migrated), so the journeys run on both, as the rest
of the suite does. The server answers from another thread and its requests commit for
real, so unlike the page tests nothing here is rolled back: the demo's case studies are
loaded and committed once for this package (``load_demo``, then every monitor once, as
``dpledger demo load`` does, so the officers have flags), and every table is emptied
before and afterwards, as the ``committed`` fixture does.

Where chromium, the playwright package, axe-core or the built GOV.UK Frontend is missing,
every browser test is skipped, saying which and how to get it. With
DPLEDGER_REQUIRE_BROWSER=1 (``.ci/run`` sets it, after installing chromium) a missing one
stops the run instead, so CI never skips them quietly.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from ledger.clock import FixedClock
from ledger.db import make_session_factory
from monitoring.runner import run_all
from portal.app import create_app
from portal.auth import passwords
from portal.config import TestConfig
from portal.demo import load_demo
from tests.browser.browser_support import (
    AXE_SCRIPT,
    CHROMIUM,
    CHROMIUM_ARGS,
    GOVUK_FRONTEND,
    ROOT,
    Browsing,
    LivePortal,
    demo_ids,
    serving,
)
from tests.conftest import empty_tables
from tests.portal.portal_support import WEB_NOW

if TYPE_CHECKING:
    from playwright.sync_api import Browser

MONITORS_RAN = WEB_NOW - timedelta(hours=4)


def missing_for_browser_tests() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"chromium not found at {CHROMIUM}: apt-get install chromium"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed: make install (pip install -e '.[dev]')"
    if not AXE_SCRIPT.exists():
        return f"axe-core not found at {AXE_SCRIPT.relative_to(ROOT)}: make frontend"
    if not GOVUK_FRONTEND.exists():
        return "GOV.UK Frontend is not built into portal/static/govuk: make frontend"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_tests = [item for item in items if item.get_closest_marker("browser")]
    reason = missing_for_browser_tests() if browser_tests else None
    if reason is None:
        return
    if os.environ.get("DPLEDGER_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"DPLEDGER_REQUIRE_BROWSER=1 but {reason}")
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def live_portal(engine: Engine) -> Iterator[LivePortal]:
    """The demo world, committed, served on 127.0.0.1 at the demo's fixed time."""
    empty_tables(engine)
    sessions = make_session_factory(engine)
    clock = FixedClock(WEB_NOW)
    try:
        with sessions() as session:
            load_demo(
                session,
                clock.now().date(),
                password_hasher=passwords.hasher(TestConfig.ARGON2_PROFILE),
            )
            session.commit()
        with sessions() as session:
            # The scheduler's early run, so the queue shows flags a few hours old.
            run_all(session, FixedClock(MONITORS_RAN), runner="browser tests")
            session.commit()
            people, cards = demo_ids(session)
        app = create_app(TestConfig(), sessions=sessions, clock=clock)
        with serving(app) as url:
            yield LivePortal(url, sessions, clock, people, cards)
    finally:
        empty_tables(engine)


@pytest.fixture()
def browsing(chromium: Browser, live_portal: LivePortal) -> Iterator[Browsing]:
    """Pages for one test; it fails if any had a CSP violation, a script error or a
    broken asset."""
    browsing = Browsing(chromium, live_portal)
    try:
        yield browsing
    finally:
        browsing.close()
    assert not browsing.problems, "\n".join(browsing.problems)
