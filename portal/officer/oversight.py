"""Oversight pages for officers: provider events that could not be applied (and
replaying them, audited), and the audit log of officers' actions and record views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapters.models import UNAPPLIED, InboxStatus
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.holder.periods import london_midnight
from portal.officer.inbox_replay import replay_inbox_event
from portal.officer.oversight_forms import AuditFilterForm, ReplayForm
from portal.officer.raw_payload import pretty_json
from portal.repositories import audit_log, inbox_view
from portal.repositories import people as people_repo
from portal.repositories.audit_log import RECORD_VIEWED, AuditFilter, AuditRow, Cursor

oversight_pages = Blueprint("oversight", __name__, url_prefix="/officer")

# Which inbox events each view of the inbox lists.
INBOX_VIEWS: dict[str, tuple[str, list[InboxStatus] | None]] = {
    "parked": ("Parked", [InboxStatus.PARKED]),
    "waiting": ("Received, not yet applied", [InboxStatus.RECEIVED]),
    "all": ("All recent events", None),
}

# The actions the audit log can be filtered by, in officers' words. An action missing
# here is still listed (with its machine name made readable), just not offered.
ACTION_LABELS: dict[str, str] = {
    RECORD_VIEWED: "Viewed a person's record",
    "safeguarding_viewed": "Read safeguarding records",
    "safeguarding_concern_raised": "Raised a safeguarding concern",
    "card_suspend": "Suspended a card",
    "card_unsuspend": "Unsuspended a card",
    "provider_told": "Told the card provider",
    "emergency_load": "Made an emergency load",
    "clawback_proposed": "Proposed a clawback",
    "clawback_edited_down": "Edited a clawback down",
    "clawback_approved": "Approved a clawback",
    "clawback_holder_responded": "Holder replied to a clawback notice",
    "clawback_cancelled": "Cancelled a clawback",
    "clawback_executed": "Executed a clawback",
    "review_requested": "Asked for a review",
    "review_decided": "Decided a review",
    "advocacy_need_recorded": "Recorded whether an advocate is needed",
    "advocate_appointed": "Appointed an advocate",
    "life_event_hospital_stay": "Recorded a hospital stay",
    "life_event_respite": "Recorded respite",
    "life_event_death": "Recorded a death",
    "hospital_discharge": "Recorded a hospital discharge",
    "setting_changed": "Changed a council setting",
    "inbox_event_replayed": "Replayed a provider event",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or action.replace("_", " ").capitalize()


def _id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@oversight_pages.get("/inbox")
def inbox() -> str:
    show = request.args.get("show", "parked")
    if show not in INBOX_VIEWS:
        show = "parked"
    session = db_session()
    page = inbox_view.inbox_page(
        session, INBOX_VIEWS[show][1], before=_id_arg("before"), after=_id_arg("after")
    )
    return render_template(
        "officer/inbox/list.html",
        page=page,
        show=show,
        views=INBOX_VIEWS,
        counts=inbox_view.waiting_counts(session),
    )


@oversight_pages.route("/inbox/<int:event_id>", methods=["GET", "POST"])
def inbox_event(event_id: int) -> str | Response | tuple[str, int]:
    session = db_session()
    event = inbox_view.get_event(session, event_id)
    if event is None:
        abort(404)
    form = ReplayForm()
    if request.method == "POST" and form.validate_on_submit():
        result = replay_inbox_event(
            session, clock(), event_id, officer=signed_in_user().email, reason=form.reason.data
        )
        outcome = f"now {result.status.value}"
        if result.status is InboxStatus.PARKED:
            outcome = f"still parked: {result.reason}"
        flash(f"Event {event_id} was replayed. It is {outcome}.")
        return redirect(url_for("oversight.inbox_event", event_id=event_id))
    stored = inbox_view.stored_payload(session, event)
    html = render_template(
        "officer/inbox/event.html",
        event=event,
        stored=stored,
        payload_text=(
            pretty_json(stored.payload)
            if stored is not None and stored.payload is not None
            else (stored.raw_text if stored is not None else None)
        ),
        replayable=event.status in UNAPPLIED,
        form=form,
    )
    return (html, 400) if form.errors else html


@oversight_pages.get("/audit")
def audit() -> str | tuple[str, int]:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [("", "Anything"), *ACTION_LABELS.items()]
    session = db_session()
    valid = form.validate() if request.args else True
    person_id = None
    reference = (form.person.data or "").strip()
    if valid and reference:
        person = people_repo.by_reference(session, reference)
        if person is None:
            form.person.errors = [f"No one has the council reference {reference}"]
            valid = False
        else:
            person_id = person.id
    page = None
    if valid:
        wanted = AuditFilter(
            actor=(form.actor.data or "").strip().lower() or None,
            person_id=person_id,
            action=form.action.data or None,
            start=london_midnight(form.date_from.data) if form.date_from.data else None,
            end=(
                london_midnight(form.date_to.data + timedelta(days=1))
                if form.date_to.data
                else None
            ),
        )
        page = audit_log.audit_page(
            session,
            wanted,
            before=Cursor.parse(request.args.get("before")),
            after=Cursor.parse(request.args.get("after")),
        )
    query = {k: request.args.getlist(k) for k in request.args if k not in ("before", "after")}
    html = render_template(
        "officer/audit/log.html",
        form=form,
        page=page,
        query=query,
        label=action_label,
        changes=changes,
        filtered=any(v for k, v in request.args.items() if k not in ("before", "after", "search")),
    )
    return html if valid else (html, 400)


def changes(row: AuditRow) -> list[str]:
    """What an entry changed, as "name: before → after" lines."""
    out = []
    for key in dict.fromkeys([*row.before, *row.after]):
        was, now = row.before.get(key), row.after.get(key)
        if key in row.before and key in row.after:
            out.append(f"{_words(key)}: {_value(was)} → {_value(now)}")
        elif key in row.after and now is not None:
            out.append(f"{_words(key)}: {_value(now)}")
        elif key in row.before:
            out.append(f"{_words(key)} was {_value(was)}")
    return out


def _words(key: str) -> str:
    return key.replace("_", " ")


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
