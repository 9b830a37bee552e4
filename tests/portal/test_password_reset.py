"""A password reset from end to end: the email goes through monitoring's notification
outbox, which the scheduler's dispatcher sends; and what it leaves in the logs: never the
token."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from monitoring.models import Notification, NotificationStatus
from monitoring.notifications import LogSender, dispatch
from portal.auth.service import PASSWORD_RESET_AUDIENCE, PASSWORD_RESET_CAUSE
from portal.models import User
from portal.ops.logs import configure_logging
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, reset_link, sign_in

web_module = support.web_module
web = support.web

MARGARET = "margaret.hughes@example.org"
NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture()
def json_logs() -> Iterator[None]:
    """dpledger's handler writing JSON lines to stderr; logging put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(json_lines=True, level="DEBUG")
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _ask_for_reset(client: FlaskClient, email: str) -> None:
    token = csrf_token(client, "/forgot-password")
    response = client.post("/forgot-password", data={"csrf_token": token, "email": email})
    assert response.status_code == 200
    assert "Check your email" in page_text(response)


def _choose(client: FlaskClient, link: str, password: str) -> TestResponse:
    token = csrf_token(client, link)
    return client.post(link, data={"csrf_token": token, "password": password, "confirm": password})


def test_no_reset_token_appears_in_any_log_line(
    web: Web, json_logs: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    client = web.client()
    _ask_for_reset(client, MARGARET)
    with web.session() as session:  # no mail server: the dispatcher logs it
        assert dispatch(session, web.clock, LogSender()).logged >= 1
        session.commit()
    link = reset_link(web, MARGARET)
    token = link.rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert _choose(client, link, NEW_PASSWORD).headers["Location"] == "/sign-in"
    assert client.get(link).status_code == 400  # used
    assert client.get(link + "/").status_code == 404  # matches no route
    sign_in(client, MARGARET, NEW_PASSWORD)
    # What the app itself wrote, before any filter: never the token.
    assert caplog.records
    assert token not in caplog.text

    # The development server's own request line (werkzeug's logger) is masked too.
    logging.getLogger("werkzeug").info('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', link)
    lines = capsys.readouterr().err.splitlines()
    (logged,) = [line for line in lines if "Reset your password" in line]
    assert MARGARET in logged and "not emailed" in logged  # who and what, not the body
    assert "open this link" not in "".join(lines)
    requests = [line for line in lines if '"dpledger.requests"' in line]
    assert any('"path": "/reset-password/[redacted]"' in line for line in requests)
    assert any('"route": "/reset-password/<token>"' in line for line in requests)
    assert any("/reset-password/[redacted] HTTP/1.1" in line for line in lines)
    assert [line for line in lines if token in line] == []


class RecordingSender:
    """A mail server that keeps what it was given."""

    sends_mail = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to_address: str, subject: str, body: str) -> None:
        self.sent.append((to_address, subject, body))


def test_a_reset_is_emailed_by_the_dispatcher_and_its_link_sets_a_new_password(
    web: Web,
) -> None:
    _ask_for_reset(web.client(), MARGARET)
    with web.session() as session:
        (queued,) = session.execute(
            select(Notification).where(Notification.cause == PASSWORD_RESET_CAUSE)
        ).scalars()
        assert (queued.to_address, queued.person_id) == (MARGARET, None)  # the sign-in's
        assert (queued.audience, queued.status) == (PASSWORD_RESET_AUDIENCE, "pending")
        sender = RecordingSender()
        dispatch(session, web.clock, sender)
        session.commit()
        session.refresh(queued)
        assert queued.status is NotificationStatus.SENT
    (body,) = [b for to, subject, b in sender.sent if to == MARGARET and "password" in subject]
    found = re.search(r"http://localhost(/reset-password/\S+)", body)
    assert found, body

    client = web.client()
    assert client.get(found.group(1)).status_code == 200
    assert _choose(client, found.group(1), NEW_PASSWORD).headers["Location"] == "/sign-in"
    assert sign_in(web.client(), MARGARET, expect_ok=False).status_code == 400  # the old one
    signed_in = web.client()
    sign_in(signed_in, MARGARET, NEW_PASSWORD)
    assert signed_in.get("/cards").status_code == 200
    # A reset email is the sign-in's, not a notice from the council.
    assert "Reset your password" not in page_text(signed_in.get("/notices"))


def test_no_reset_email_for_a_disabled_account(web: Web) -> None:
    with web.session() as session:
        user = session.execute(select(User).where(User.email == MARGARET)).scalar_one()
        user.active = False
        session.commit()
    _ask_for_reset(web.client(), MARGARET)
    with web.session() as session:
        queued = select(Notification.id).where(Notification.cause == PASSWORD_RESET_CAUSE)
        assert session.execute(queued).first() is None
