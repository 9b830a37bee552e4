"""Security headers on every response, and domain errors mapped once to error summaries
on pages, with nothing changed."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.errors import InsufficientFunds
from portal.app import create_app, db_session
from portal.config import TestConfig as PortalTestConfig
from portal.models import SignInAttempt
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, page_text, parse_page, signed_in

web_module = support.web_module
web = support.web

PATHS = ["/", "/sign-in", "/cards", "/cards/999999", "/officer/", "/static/app.js"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(web: Web, path: str) -> None:
    client = signed_in(web, "margaret.hughes@example.org")
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP in this test


def test_personal_pages_are_never_cached_but_static_files_may_be(web: Web) -> None:
    client = signed_in(web, "margaret.hughes@example.org")
    assert client.get("/cards").headers["Cache-Control"] == "no-store"
    assert client.get("/static/app.js").headers.get("Cache-Control") != "no-store"


def test_hsts_over_https(web: Web) -> None:
    response = web.client().get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_always_when_tls_ends_at_a_proxy(web: Web) -> None:
    web.app.config["HSTS_ALWAYS"] = True
    try:
        assert "Strict-Transport-Security" in web.client().get("/sign-in").headers
    finally:
        web.app.config["HSTS_ALWAYS"] = False


def test_pages_have_no_inline_script_or_style(web: Web) -> None:
    client = signed_in(web, "vivian.shaw@example.org")
    for path in ["/cards", f"/cards/{web.world.cards['4307']}/plan"]:
        document = parse_page(client.get(path))
        for script in document.iter("script"):
            assert script.get("src") and not (script.text or "").strip()
        assert not list(document.iter("style"))
        assert not [e for e in document.iter() if e.get("style") is not None]


def _app_that_fails_after_writing(web: Web) -> Flask:
    app = create_app(PortalTestConfig(), sessions=web.sessions, clock=web.clock)

    def fail() -> str:
        session = db_session()
        session.add(
            SignInAttempt(
                email="x@example.org",
                remote_addr="203.0.113.9",
                succeeded=False,
                attempted_at=web.clock.now(),
            )
        )
        session.flush()
        raise InsufficientFunds("There is £5.00 available, and the payment is £9.00")

    app.add_url_rule("/fail", view_func=fail)
    return app


def test_a_domain_error_is_an_error_summary_and_changes_nothing(web: Web) -> None:
    app = _app_that_fails_after_writing(web)
    response = app.test_client().get("/fail")
    assert response.status_code == 422
    document = parse_page(response)
    summary = document.find(".//div[@class='govuk-error-summary']")
    assert summary is not None
    assert "There is £5.00 available, and the payment is £9.00" in " ".join(summary.itertext())
    assert "Not enough money available" in page_text(response)
    with web.session() as session:
        written = select(func.count()).where(SignInAttempt.email == "x@example.org")
        assert session.execute(written).scalar() == 0


def test_error_pages_are_pages_too(web: Web) -> None:
    client = web.client()
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in page_text(missing)
    wrong_method = client.delete("/sign-in")
    assert wrong_method.status_code in (400, 405)
    parse_page(wrong_method)
