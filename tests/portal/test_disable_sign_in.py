"""Disabling a sign-in for someone who leaves (``dpledger users disable``), and enabling
it again: every session ends at once, signing in is refused as a wrong password is (no
hint that the account exists), reset links stop working, and each change is audited.
The command itself is tested in tests/portal/test_users_command.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.errors import InvalidRecord, UnknownRecord
from monitoring.models import AuditEntry
from portal.auth.users import set_sign_in_active
from portal.models import User
from tests.portal import portal_support as support
from tests.portal.portal_support import Web, csrf_token, page_text, reset_link, sign_in

web_module = support.web_module
web = support.web

MARGARET = "margaret.hughes@example.org"
WRONG = "Enter a correct email address and password"


def _set(web: Web, active: bool, email: str = MARGARET) -> bool:
    with web.session() as session:
        _, changed = set_sign_in_active(
            session, web.clock, email=email, active=active,
            by="admin@example.org", reason="Left the council",
        )  # fmt: skip
        session.commit()
    return changed


def test_a_disabled_sign_in_is_refused_as_a_wrong_password_is(web: Web) -> None:
    client = web.client()
    sign_in(client, MARGARET)
    assert client.get("/cards").status_code == 200
    assert _set(web, active=False)

    assert client.get("/cards").status_code == 302  # the session has ended
    refused = sign_in(web.client(), MARGARET, expect_ok=False)
    wrong = sign_in(web.client(), MARGARET, "not the password", expect_ok=False)
    assert refused.status_code == wrong.status_code == 400
    assert WRONG in page_text(refused)
    assert page_text(refused) == page_text(wrong)  # nothing says the account exists

    # Enabled again: it signs in, but the session from before stays ended.
    assert _set(web, active=True)
    assert client.get("/cards").status_code == 302
    assert sign_in(web.client(), MARGARET).status_code == 302


def test_each_change_is_audited_and_one_that_changes_nothing_is_not(web: Web) -> None:
    assert _set(web, active=False)
    assert not _set(web, active=False)
    assert _set(web, active=True)
    with web.session() as session:
        user = session.execute(select(User).where(User.email == MARGARET)).scalar_one()
        entries = (
            session.execute(
                select(AuditEntry).where(AuditEntry.subject_type == "user").order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert [(e.action, e.actor, e.subject_id, e.reason) for e in entries] == [
        ("sign_in_disabled", "admin@example.org", user.id, "Left the council"),
        ("sign_in_enabled", "admin@example.org", user.id, "Left the council"),
    ]
    assert (entries[0].before, entries[0].after) == (
        {"active": True}, {"active": False, "sign_in": MARGARET},
    )  # fmt: skip


def test_a_reset_link_sent_before_stops_working(web: Web) -> None:
    client = web.client()
    token = csrf_token(client, "/forgot-password")
    client.post("/forgot-password", data={"csrf_token": token, "email": MARGARET})
    link = reset_link(web, MARGARET)
    assert web.client().get(link).status_code == 200
    _set(web, active=False)
    assert web.client().get(link).status_code == 400
    _set(web, active=True)
    assert web.client().get(link).status_code == 400  # retired, not just paused


def test_bad_input_is_a_clear_error_and_changes_nothing(web: Web) -> None:
    with web.session() as session:
        with pytest.raises(UnknownRecord, match="no sign-in account has the email address"):
            set_sign_in_active(
                session, web.clock, email="nobody@example.org", active=False, by="a", reason="r"
            )
        with pytest.raises(InvalidRecord, match="reason"):
            set_sign_in_active(session, web.clock, email=MARGARET, active=False, by="a", reason=" ")
        with pytest.raises(InvalidRecord, match="120 characters"):
            set_sign_in_active(
                session, web.clock, email=MARGARET, active=False, by="a" * 121, reason="r"
            )
        user = session.execute(select(User).where(User.email == MARGARET)).scalar_one()
        assert user.active and user.session_epoch == 0
        assert (
            session.execute(select(AuditEntry).where(AuditEntry.subject_type == "user")).first()
            is None
        )
