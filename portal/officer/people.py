"""A person's record, and the actions taken from it: an unplanned review, a life event,
an emergency load. Each form: CSRF, a GOV.UK error summary, nothing changed on bad input,
then post/redirect/get with a success banner. Every page showing the record is logged."""

from __future__ import annotations

import secrets
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.models import Person, Plan
from ledger.money import format_pence
from monitoring.actions import EmergencySupport
from monitoring.dates import today
from monitoring.life_events import LifeEvents
from monitoring.models import EmergencyLoad, Flag, LifeEvent
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.errors import attempt
from portal.formatting import london_date
from portal.officer.action_forms import (
    LIFE_EVENT_KINDS,
    EmergencyLoadForm,
    LifeEventForm,
    ReviewRequestForm,
    choices,
    given,
)
from portal.officer.common import officer_actions, officer_name, status_code
from portal.officer.records import log_record_view, open_person_record
from portal.officer.views import officer_pages
from portal.repositories import flag_records
from portal.repositories import officer_records as records_repo
from portal.repositories import people as people_repo

Page = str | tuple[str, int] | Response


@officer_pages.get("/people/<int:person_id>")
def person(person_id: int) -> str:
    record = open_person_record(db_session(), clock(), signed_in_user(), person_id, request.path)
    if record is None:
        abort(404)
    return render_template("officer/person.html", record=record, today=today(clock()))


def _person(person_id: int) -> Person:
    person = people_repo.get(db_session(), person_id)
    if person is None:
        abort(404)
    return person


def _render(template: str, person: Person, status: int, **context: object) -> tuple[str, int]:
    """A form page about the person: showing it is a view of their record, logged."""
    log_record_view(db_session(), clock(), signed_in_user(), person.id, request.path)
    return render_template(template, person=person, **context), status


def plan_label(plan: Plan) -> str:
    kind = "Care and support plan" if plan.kind.value == "care_and_support" else "Support plan"
    return f"{kind} from {london_date(plan.starts_on)} ({plan.status.value})"


# -- an unplanned review ----------------------------------------------------------------------


@officer_pages.route("/people/<int:person_id>/review", methods=["GET", "POST"])
def request_review(person_id: int) -> Page:
    """Ask for an unplanned review of one of the person's plans; from a flag about them
    (``?flag=``), the flag's history records it and its plan is chosen to start with."""
    person = _person(person_id)
    plans = records_repo.plans_of(db_session(), person.id)
    form = ReviewRequestForm()
    form.plan.choices = choices([(str(p.id), plan_label(p)) for p in plans])
    flag = _flag_of(person, form.flag.data if form.is_submitted() else request.args.get("flag"))
    if not form.is_submitted():
        form.flag.data = str(flag.id) if flag is not None else ""
        flag_plan = flag.subject_id if flag is not None and flag.subject_type == "plan" else None
        about = [p for p in plans if p.id == flag_plan]
        if about or len(plans) == 1:
            form.plan.data = str((about or plans)[0].id)
    if form.validate_on_submit():
        due_by: date | None = form.due_by.data
        if due_by is not None and due_by < today(clock()):
            form.due_by.errors.append("The review date must be today or in the future")
        else:
            review = attempt(
                form,
                lambda: officer_actions().request_review(
                    int(form.plan.data), officer=officer_name(), reason=form.reason.data,
                    due_by=due_by, flag_id=flag.id if flag is not None else None,
                ),
            )  # fmt: skip
            if review is not None:
                flash(f"An unplanned review was requested, due by {london_date(review.due_by)}.")
                if flag is not None:
                    return redirect(url_for(".review", review_id=review.id))
                return redirect(url_for(".person", person_id=person.id))
    return _render(
        "officer/people/review.html",
        person,
        status_code(bool(form.errors)),
        form=form,
        plans=plans,
        flag=flag,
    )


def _flag_of(person: Person, given: str | None) -> Flag | None:
    """The flag a review is asked for from: none when not given; one about someone else,
    or none at all, is not found (404)."""
    if not given:
        return None
    known = given.isdigit() and len(given) < 19
    flag = flag_records.get(db_session(), int(given)) if known else None
    if flag is None or flag.person_id != person.id:
        abort(404)
    return flag


# -- a life event -------------------------------------------------------------------------------


@officer_pages.route("/people/<int:person_id>/life-events", methods=["GET", "POST"])
def record_life_event(person_id: int) -> Page:
    person = _person(person_id)
    form = LifeEventForm()
    if form.validate_on_submit():
        on = given(form.on.data)
        if form.kind.data != "respite" and on > today(clock()):
            form.on.errors.append("The date cannot be in the future")
        else:
            event = attempt(form, lambda: _life_event(person.id, form))
            if event is not None:
                flash(f"Recorded: {_life_event_words(form.kind.data)}, {london_date(on)}.")
                return redirect(url_for(".person", person_id=person.id))
    return _render(
        "officer/people/life_event.html", person, status_code(bool(form.errors)), form=form
    )


def _life_event(person_id: int, form: LifeEventForm) -> LifeEvent:
    events = LifeEvents(db_session(), clock())
    officer, note, on = officer_name(), form.note.data, given(form.on.data)
    if form.kind.data == "hospital_admission":
        return events.hospital_admission(person_id, on, officer=officer, note=note)
    if form.kind.data == "hospital_discharge":
        return events.hospital_discharge(person_id, on, officer=officer, note=note)
    if form.kind.data == "respite":
        ends_on = given(form.ends_on.data)
        return events.respite(person_id, on, ends_on, officer=officer, note=note)
    return events.death(person_id, on, officer=officer, note=note)


def _life_event_words(kind: str) -> str:
    return dict(LIFE_EVENT_KINDS)[kind].lower()


# -- an emergency load ------------------------------------------------------------------------


@officer_pages.route("/people/<int:person_id>/emergency-load", methods=["GET", "POST"])
def emergency_load(person_id: int) -> Page:
    person = _person(person_id)
    budgets = records_repo.budgets_of(db_session(), person.id)
    form = EmergencyLoadForm()
    form.budget.choices = choices([(str(b.id), b.name) for b in budgets])
    if not form.is_submitted():
        # One load per form: a double click or a resubmission sends the same key.
        form.request_key.data = secrets.token_urlsafe(24)
        if len(budgets) == 1:
            form.budget.data = str(budgets[0].id)
    if form.validate_on_submit():
        loaded = attempt(form, lambda: _emergency_load(form))
        if loaded is not None:
            flash(
                f"{format_pence(loaded.council_amount)} was loaded as {loaded.kind} support. "
                f"It is to be reviewed on {london_date(loaded.review_on)}."
            )
            return redirect(url_for(".person", person_id=person.id))
    return _render(
        "officer/people/emergency_load.html",
        person,
        status_code(bool(form.errors)),
        form=form,
        budgets=budgets,
    )


def _emergency_load(form: EmergencyLoadForm) -> EmergencyLoad:
    support = EmergencySupport(
        kind=form.kind.data,
        purpose=form.purpose.data,
        council_amount=given(form.amount.data),
        person_amount=given(form.person_amount.data),
        duration_days=form.duration_days.data,
        review_how=form.review_how.data,
        review_on=given(form.review_on.data),
        outcome_aimed_at=form.outcome_aimed_at.data,
        next_steps=form.next_steps.data,
    )
    return officer_actions().emergency_load(
        int(form.budget.data),
        support,
        request_key=form.request_key.data,
        officer=officer_name(),
        reason=form.reason.data,
    )
