"""A review's page: what was asked for and why, the advocacy question (Care Act 2014
s67: would the person have substantial difficulty being involved, and is there an
appropriate person to support them), the advocate when one is needed, and the decision
with its outcome and reason. When an advocate is needed the decision waits for one,
unless it is urgent. Each step is a small form posting to its own address; on bad input
the page is shown again with that form's errors and nothing changed.

A flag whose suggested action is a review (under-spend, a review overdue) links to
``review_for_flag``: the review it leads to, or the form to request one from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ledger.errors import UnknownRecord
from monitoring import advocacy
from monitoring.dates import today
from monitoring.models import ReviewRequest, ReviewStatus
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.errors import attempt
from portal.officer import action_forms as forms
from portal.officer.common import officer_actions, officer_name
from portal.officer.records import log_record_view
from portal.officer.views import officer_pages
from portal.repositories import flag_records
from portal.repositories import officer_clawbacks as advocacy_repo
from portal.repositories import officer_reviews as reviews_repo
from portal.repositories.officer_reviews import decision_key

Page = str | tuple[str, int] | Response

# step -> (form class, what it does, the banner)
Step = tuple[type[FlaskForm], Callable[[ReviewRequest, Any], object], str]


def _advocacy(review: ReviewRequest, form: Any) -> object:
    return advocacy.record_need(
        db_session(),
        clock(),
        person_id=review.person_id,
        decision=decision_key(review.id),
        substantial_difficulty=form.substantial_difficulty.data == "yes",
        appropriate_person=form.appropriate_person.data == "yes",
        officer=officer_name(),
        reason=form.advocacy_note.data,
    )


def _appoint(review: ReviewRequest, form: Any) -> object:
    key = decision_key(review.id)
    need = advocacy_repo.latest_advocacy(db_session(), [key]).get(key)
    if need is None:
        raise UnknownRecord("record whether the person needs an advocate first")
    return advocacy.appoint_advocate(
        db_session(), clock(), need.id, form.advocate_name.data,
        officer=officer_name(), reason=form.reason.data,
    )  # fmt: skip


def _decide(review: ReviewRequest, form: Any) -> object:
    return officer_actions().decide_review(
        review.id,
        decision=form.outcome.data,
        officer=officer_name(),
        reason=form.reason.data,
        urgent=bool(form.urgent.data),
    )


STEPS: dict[str, Step] = {
    "advocacy": (forms.AdvocacyForm, _advocacy, "The answer about advocacy was recorded."),
    "advocate": (forms.AppointAdvocateForm, _appoint, "The advocate was recorded."),
    "decide": (forms.DecideReviewForm, _decide, "The review's decision was recorded."),
}


def _forms(submitted: str | None = None, form: FlaskForm | None = None) -> dict[str, FlaskForm]:
    """A fresh form for each step (prefixed: their fields share a page), except the one
    just submitted."""
    return {
        step: form if step == submitted and form is not None else cls(formdata=None, prefix=step)
        for step, (cls, _, _) in STEPS.items()
    }


@officer_pages.get("/reviews/<int:review_id>")
def review(review_id: int) -> str:
    return _page(_review(review_id), _forms())


@officer_pages.post("/reviews/<int:review_id>/<step>")
def review_step(review_id: int, step: str) -> Page:
    if step not in STEPS:
        abort(404)
    found = _review(review_id)
    form_class, action, banner = STEPS[step]
    form = form_class(prefix=step)
    if form.validate() and attempt(form, lambda: action(found, form)) is not None:
        flash(banner)
        return redirect(url_for(".review", review_id=found.id))
    return _page(found, _forms(step, form)), 400


@officer_pages.get("/reviews/from-flag/<int:flag_id>")
def review_for_flag(flag_id: int) -> Response:
    """Where a flag's "review" link leads: the review asked for from it (or still waiting
    for a decision on the plan it is about), else the form to request one from it."""
    flag = flag_records.get(db_session(), flag_id)
    if flag is None or flag.person_id is None:
        abort(404)
    found = reviews_repo.review_for_flag(db_session(), flag)
    if found is not None:
        return redirect(url_for(".review", review_id=found.id))
    return redirect(url_for(".request_review", person_id=flag.person_id, flag=flag.id))


def _review(review_id: int) -> ReviewRequest:
    found = reviews_repo.get(db_session(), review_id)
    if found is None:
        abort(404)
    return found


def _page(found: ReviewRequest, step_forms: dict[str, FlaskForm]) -> str:
    session = db_session()
    log_record_view(session, clock(), signed_in_user(), found.person_id, request.path)
    key = decision_key(found.id)
    flag = flag_records.get(session, found.flag_id) if found.flag_id is not None else None
    return render_template(
        "officer/reviews/review.html",
        review=found,
        person=reviews_repo.person_of(session, found),
        plan=reviews_repo.plan_of(session, found),
        flag=flag,
        need=advocacy_repo.latest_advocacy(session, [key]).get(key),
        decided=reviews_repo.decision_entry(session, found),
        waiting=found.status is ReviewStatus.REQUESTED,
        overdue=found.status is ReviewStatus.REQUESTED and found.due_by < today(clock()),
        forms=step_forms,
    )
