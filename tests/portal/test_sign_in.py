"""Signing in and out: lock-out after repeated failures, the per-address limit, password
reset links (hashed, single use, expiring), CSRF on every form, and sessions."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from monitoring.models import Notification
from portal.auth.service import PASSWORD_RESET_CAUSE, token_hash
from portal.models import PasswordResetToken, SignInAttempt, User
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, parse_page, reset_link, sign_in

web_module = support.web_module
web = support.web

MARGARET = "margaret.hughes@example.org"
NEW_PASSWORD = "a brand new long passphrase"


def _attempts(web: Web) -> int:
    with web.session() as session:
        return session.execute(select(func.count()).select_from(SignInAttempt)).scalar_one()


def test_signing_in_and_out(web: Web) -> None:
    client = web.client()
    response = sign_in(client, MARGARET)
    assert response.headers["Location"] == "/"
    assert client.get("/cards").status_code == 200
    token = csrf_token(client, "/cards")
    signed_out = client.post("/sign-out", data={"csrf_token": token})
    assert signed_out.headers["Location"] == "/sign-in"
    assert "You have signed out" in page_text(client.get("/sign-in"))
    assert client.get("/cards").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_only_on_this_site(web: Web) -> None:
    card = web.world.cards["4303"]
    client = web.client()
    asked = client.get(f"/cards/{card}/payments")
    assert asked.headers["Location"] == f"/sign-in?next=/cards/{card}/payments"
    token = csrf_token(client, asked.headers["Location"])
    back = client.post(
        asked.headers["Location"],
        data={"csrf_token": token, "email": MARGARET, "password": "demo-only-password"},
    )
    assert back.headers["Location"] == f"/cards/{card}/payments"
    for elsewhere in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil"]:
        other = web.client()
        token = csrf_token(other, "/sign-in")
        away = other.post(
            "/sign-in",
            query_string={"next": elsewhere},
            data={"csrf_token": token, "email": MARGARET, "password": "demo-only-password"},
        )
        assert away.headers["Location"] == "/"


def test_a_wrong_password_is_an_error_summary(web: Web) -> None:
    response = sign_in(web.client(), MARGARET, "not the password", expect_ok=False)
    assert response.status_code == 400
    document = parse_page(response)
    assert document.find(".//title").text.startswith("Error: ")
    summary = document.find(".//div[@class='govuk-error-summary']")
    assert summary is not None
    assert "Enter a correct email address and password" in " ".join(summary.itertext())
    link = summary.find(".//a")
    assert link is not None and link.get("href") == "#email"


def test_lock_out_after_five_failures_until_fifteen_minutes_pass(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        assert sign_in(client, MARGARET, "wrong password", expect_ok=False).status_code == 400
    web.clock.advance(minutes=1)
    locked = sign_in(client, MARGARET, expect_ok=False)  # the right password, but locked
    assert locked.status_code == 400
    assert "too many failed attempts" in page_text(locked)
    assert "Try again after 20 April 2026 at 11:15am" in page_text(locked)  # BST
    web.clock.advance(minutes=13)
    assert sign_in(client, MARGARET, expect_ok=False).status_code == 400
    web.clock.advance(minutes=1, seconds=1)
    assert sign_in(client, MARGARET).status_code == 302


def test_attempts_while_locked_out_do_not_prolong_it(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        sign_in(client, MARGARET, "wrong password", expect_ok=False)
    recorded = _attempts(web)
    for _ in range(3):
        web.clock.advance(minutes=4)
        sign_in(client, MARGARET, "wrong again", expect_ok=False)
    assert _attempts(web) == recorded
    web.clock.advance(minutes=3, seconds=1)
    assert sign_in(client, MARGARET).status_code == 302


def test_an_email_without_an_account_locks_out_the_same_way(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        response = sign_in(client, "nobody@example.org", "guess", expect_ok=False)
        assert "Enter a correct email address and password" in page_text(response)
    response = sign_in(client, "nobody@example.org", "guess", expect_ok=False)
    assert "too many failed attempts" in page_text(response)


def test_a_success_starts_the_count_again(web: Web) -> None:
    client = web.client()
    for _ in range(4):
        sign_in(client, MARGARET, "wrong password", expect_ok=False)
    web.clock.advance(seconds=1)
    sign_in(web.client(), MARGARET)
    web.clock.advance(seconds=1)
    for _ in range(4):
        sign_in(client, MARGARET, "wrong password", expect_ok=False)
    assert sign_in(web.client(), MARGARET).status_code == 302


def test_too_many_failures_from_one_address_are_refused(web: Web) -> None:
    web.app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        client = web.client()
        for n in range(3):
            sign_in(client, f"person{n}@example.org", "guess", expect_ok=False)
        refused = sign_in(client, MARGARET, expect_ok=False)
        assert refused.status_code == 400
        assert "too many failed attempts to sign in from your network" in page_text(refused)
    finally:
        web.app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"] = 50


def test_csrf_tokens_are_required_and_a_refusal_changes_nothing(web: Web) -> None:
    client = web.client()
    before = _attempts(web)
    response = client.post("/sign-in", data={"email": MARGARET, "password": "demo-only-password"})
    assert response.status_code == 400
    assert "Your form has expired" in page_text(response)
    forged = client.post(
        "/sign-in",
        data={"csrf_token": "forged", "email": MARGARET, "password": "demo-only-password"},
    )
    assert forged.status_code == 400
    assert _attempts(web) == before
    sign_in(client, MARGARET)
    assert client.post("/sign-out").status_code == 400
    assert client.get("/cards").status_code == 200  # still signed in
    assert client.post("/forgot-password", data={"email": MARGARET}).status_code == 400


def _ask_for_reset(web: Web, email: str) -> str:
    client = web.client()
    token = csrf_token(client, "/forgot-password")
    response = client.post("/forgot-password", data={"csrf_token": token, "email": email})
    assert response.status_code == 200
    assert "Check your email" in page_text(response)
    return reset_link(web, email)


def _choose(
    client: FlaskClient, link: str, password: str, confirm: str | None = None
) -> TestResponse:
    token = csrf_token(client, link)
    return client.post(
        link,
        data={"csrf_token": token, "password": password, "confirm": confirm or password},
    )


def test_password_reset_by_emailed_link_works_once(web: Web) -> None:
    other_session = web.client()
    sign_in(other_session, MARGARET)
    link = _ask_for_reset(web, MARGARET)
    token = link.rsplit("/", 1)[1]
    with web.session() as session:
        stored = session.execute(select(PasswordResetToken.token_hash)).scalars().all()
    assert stored == [token_hash(token)]  # only the hash is kept
    assert token not in stored

    client = web.client()
    form = client.get(link)
    assert form.status_code == 200
    parse_page(form)
    weak = _choose(client, link, "short")
    assert weak.status_code == 400
    assert "at least 12 characters" in page_text(weak)
    mismatch = _choose(client, link, NEW_PASSWORD, "something else entirely")
    assert "The passwords do not match" in page_text(mismatch)
    done = _choose(client, link, NEW_PASSWORD)
    assert done.headers["Location"] == "/sign-in"
    assert "Your password has been changed" in page_text(client.get("/sign-in"))

    assert sign_in(web.client(), MARGARET, expect_ok=False).status_code == 400  # old one
    assert sign_in(web.client(), MARGARET, NEW_PASSWORD).status_code == 302
    assert other_session.get("/cards").status_code == 302  # signed out everywhere

    again = web.client().get(link)
    assert again.status_code == 400
    assert "expired or has already been used" in page_text(again)
    reuse = web.client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reuse.status_code == 400


def test_a_reset_link_expires_after_an_hour(web: Web) -> None:
    link = _ask_for_reset(web, MARGARET)
    web.clock.advance(minutes=59)
    assert web.client().get(link).status_code == 200
    web.clock.advance(minutes=1)
    assert web.client().get(link).status_code == 400


def test_a_newer_reset_link_retires_the_older(web: Web) -> None:
    first = _ask_for_reset(web, MARGARET)
    second = _ask_for_reset(web, MARGARET)
    assert first != second
    assert web.client().get(first).status_code == 400
    assert web.client().get(second).status_code == 200


def test_asking_for_a_reset_says_the_same_whether_or_not_there_is_an_account(
    web: Web,
) -> None:
    client = web.client()
    token = csrf_token(client, "/forgot-password")
    response = client.post(
        "/forgot-password", data={"csrf_token": token, "email": "nobody@example.org"}
    )
    assert response.status_code == 200
    assert "If nobody@example.org has an account" in page_text(response)
    with web.session() as session:
        emails = select(func.count()).where(Notification.cause == PASSWORD_RESET_CAUSE)
        assert session.execute(emails).scalar() == 0


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(web: Web) -> None:
    client = web.client()
    sign_in(client, MARGARET)
    with web.session() as session:
        user = session.execute(select(User).where(User.email == MARGARET)).scalar_one()
        user.active = False
        session.commit()
    assert client.get("/cards").status_code == 302
    assert sign_in(web.client(), MARGARET, expect_ok=False).status_code == 400


def test_the_session_cookie_is_http_only_and_same_site(web: Web) -> None:
    client = web.client()
    response = sign_in(client, MARGARET)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("dpledger_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a session ends after an hour without a request
