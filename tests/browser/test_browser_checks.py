"""The journeys' own checks can fail: the CSP really refuses inline script in the
browser (which is why axe runs in a context that bypasses it), the watcher reports that
refusal, and the axe check fails a page with a critical problem."""

from __future__ import annotations

import pytest

from tests.browser.browser_support import AXE_SCRIPT, Browsing, ready

pytestmark = pytest.mark.browser


def test_the_csp_refuses_inline_script_and_the_journeys_notice(browsing: Browsing) -> None:
    from playwright.sync_api import Error

    page = browsing.page()
    page.goto("/sign-in")
    ready(page, "Sign in")
    with pytest.raises(Error, match="Content Security Policy"):
        page.add_script_tag(path=AXE_SCRIPT)
    assert page.evaluate("() => typeof window.axe") == "undefined"
    assert any(p.startswith("CSP violation") for p in browsing.problems), browsing.problems
    browsing.problems.clear()  # expected here: any other journey fails on it


def test_axe_fails_a_page_with_a_critical_problem(browsing: Browsing) -> None:
    page = browsing.page()
    page.goto("/sign-in")
    ready(page, "Sign in")

    def without_labels(axe_page) -> None:
        axe_page.evaluate("() => document.querySelectorAll('label').forEach(l => l.remove())")

    with pytest.raises(AssertionError, match=r"critical label: Form elements must have labels"):
        browsing.check_accessibility(page, prepare=without_labels)
