"""What the officers' action pages share: who is acting, the services with the
request's transaction, clock and card provider, and paging cursors."""

from __future__ import annotations

from flask import request

from monitoring.actions import OfficerActions
from monitoring.clawback import Clawbacks
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.providers import card_provider


def officer_name() -> str:
    """How the audit log names the signed-in officer."""
    return signed_in_user().email


def officer_actions() -> OfficerActions:
    session = db_session()
    return OfficerActions(session, clock(), card_provider(session))


def clawbacks() -> Clawbacks:
    session = db_session()
    return Clawbacks(session, clock(), card_provider(session))


def cursor(name: str) -> int | None:
    """A transfer id from the query string, or None for anything else."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def status_code(form_has_errors: bool) -> int:
    return 400 if form_has_errors else 200
