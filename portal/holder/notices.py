"""Notices from the council, on the holder's side: the list, each notice, and replying
to a notice of a proposed recovery within its response window.

A holder sees only notices to themselves (a notice to anyone else is not found), and
may reply once, until the end of the day the notice names (a Europe/London date).
The reply goes to ``Clawbacks.record_holder_response``, which keeps it with the
clawback and in the audit log.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ledger.clock import Clock
from ledger.errors import DomainError
from ledger.ports import CardCommand, CommandOutcome
from monitoring.clawback import Clawbacks
from monitoring.dates import today
from monitoring.models import ClawbackStatus
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.officer.oversight_forms import strip
from portal.repositories import notices as notices_repo
from portal.repositories.notices import Notice, Recovery

notice_pages = Blueprint("notices", __name__)

REPLY_MAX = 4000


class ReplyState(StrEnum):
    OPEN = "open"  # they may reply now
    REPLIED = "replied"
    CLOSED = "closed"  # the window ended without a reply
    EXECUTED = "executed"
    CANCELLED = "cancelled"


def reply_state(recovery: Recovery, on: date) -> ReplyState:
    """Where the holder's reply stands on the council's date ``on``."""
    if recovery.response is not None:
        return ReplyState.REPLIED
    if recovery.status is ClawbackStatus.EXECUTED:
        return ReplyState.EXECUTED
    if recovery.status is ClawbackStatus.CANCELLED:
        return ReplyState.CANCELLED
    if (
        recovery.status is ClawbackStatus.HOLDER_NOTIFIED
        and recovery.respond_by is not None
        and on <= recovery.respond_by
    ):
        return ReplyState.OPEN
    return ReplyState.CLOSED


class ReplyNotOpen(DomainError):
    code = "reply_not_open"
    title = "You cannot reply to this notice now"
    http_status = 409


class _NoCardCommands:
    """A holder's reply never tells the card provider anything."""

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome:
        raise AssertionError("a holder's reply does not send card commands")


def reply_to_recovery(
    session: Session, clock: Clock, person_id: int, proposal_id: int, reply: str, *, holder: str
) -> None:
    """Keep the holder's reply to a proposed recovery of theirs: once, and only while
    its window is open (``ReplyNotOpen`` otherwise, and nothing changes)."""
    recovery = notices_repo.lock_recovery(session, person_id, proposal_id)
    if recovery is None:
        raise ReplyNotOpen("this notice is not one you can reply to")
    state = reply_state(recovery, today(clock))
    if state is ReplyState.REPLIED:
        raise ReplyNotOpen("You have already replied to this notice")
    if state is not ReplyState.OPEN:
        raise ReplyNotOpen("The time to reply to this notice has ended")
    Clawbacks(session, clock, _NoCardCommands()).record_holder_response(
        proposal_id, reply, officer=holder
    )


class ReplyForm(FlaskForm):  # type: ignore[misc]
    reply = TextAreaField(
        "Your reply",
        widget=GovTextArea(),
        description="Tell us if you think this is wrong, or if you are saving up for "
        "something in your plan.",
        filters=[strip],
        validators=[
            DataRequired("Enter your reply"),
            Length(max=REPLY_MAX, message=f"Your reply must be {REPLY_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Send your reply", widget=GovSubmitInput())


def _person_id() -> int:
    person_id = signed_in_user().person_id
    if person_id is None:  # the users table does not allow it
        abort(403)
    return person_id


@notice_pages.get("/notices")
def notices() -> str:
    found = notices_repo.notices_for_person(db_session(), _person_id())
    return render_template(
        "holder/notices.html",
        notices=found,
        states={n.notice_id: _state(n) for n in found},
    )


@notice_pages.route("/notices/<int:notice_id>", methods=["GET", "POST"])
def notice(notice_id: int) -> str | Response | tuple[str, int]:
    session, person_id = db_session(), _person_id()
    found = notices_repo.notice_for_person(session, person_id, notice_id)
    if found is None:
        abort(404)
    form = ReplyForm()
    problem = None
    if form.is_submitted():
        if found.recovery is None:
            abort(404)  # nothing on this notice to reply to
        if form.validate():
            try:
                reply_to_recovery(
                    session,
                    clock(),
                    person_id,
                    found.recovery.proposal_id,
                    form.reply.data,
                    holder=signed_in_user().email,
                )
            except ReplyNotOpen as error:
                problem = error.detail
            else:
                flash("Thank you. We have your reply and will consider it.")
                return redirect(url_for("notices.notice", notice_id=notice_id))
        found = notices_repo.notice_for_person(session, person_id, notice_id) or found
    html = render_template(
        "holder/notice.html", notice=found, state=_state(found), form=form, problem=problem
    )
    if problem:
        return html, 409
    return (html, 400) if form.errors else html


def _state(found: Notice) -> ReplyState | None:
    return reply_state(found.recovery, today(clock())) if found.recovery else None
