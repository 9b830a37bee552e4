"""A password reset from end to end, and what it leaves in the logs: never the token."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.models import OutboxEmail
from portal.ops.logs import configure_logging
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, sign_in

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


def _reset_link(web: Web, email: str) -> str:
    with web.session() as session:
        body = session.execute(
            select(OutboxEmail.body)
            .where(OutboxEmail.to_address == email)
            .order_by(OutboxEmail.id.desc())
        ).scalar()
    assert body is not None
    found = re.search(r"http://localhost(/reset-password/\S+)", body)
    assert found
    return found.group(1)


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
    link = _reset_link(web, MARGARET)
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
    requests = [line for line in lines if '"dpledger.requests"' in line]
    assert any('"path": "/reset-password/[redacted]"' in line for line in requests)
    assert any('"route": "/reset-password/<token>"' in line for line in requests)
    assert any("/reset-password/[redacted] HTTP/1.1" in line for line in lines)
    assert [line for line in lines if token in line] == []
