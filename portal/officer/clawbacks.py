"""Clawback pages: a proposal made from the plan's surplus calculation (with the advocacy
question), and one proposal's page with the step its status allows: edit down, answer the
advocacy question or name the advocate, approve, record the holder's response, execute,
cancel. Each step is a small form posting to its own address; on bad input the page is
shown again with that form's errors and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ledger.errors import UnknownRecord
from ledger.models import Plan, PlanStatus
from ledger.money import format_pence
from monitoring import advocacy
from monitoring.dates import today
from monitoring.models import ClawbackProposal, ClawbackStatus
from monitoring.settings import load_settings
from monitoring.surplus import SurplusCalculation
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.errors import attempt
from portal.formatting import london_date
from portal.officer import action_forms as forms
from portal.officer.approvals import approval_check, require_senior_officer
from portal.officer.common import clawbacks, officer_name, status_code
from portal.officer.records import log_record_view
from portal.officer.views import officer_pages
from portal.repositories import officer_clawbacks as clawbacks_repo
from portal.repositories import people as people_repo
from portal.repositories.officer_clawbacks import decision_key

Page = str | tuple[str, int] | Response
LIVE = (ClawbackStatus.PROPOSED, ClawbackStatus.APPROVED, ClawbackStatus.HOLDER_NOTIFIED)


def _logged(person_id: int) -> None:
    log_record_view(db_session(), clock(), signed_in_user(), person_id, request.path)


# -- proposing --------------------------------------------------------------------------------


@officer_pages.route("/plans/<int:plan_id>/clawback", methods=["GET", "POST"])
def propose(plan_id: int) -> Page:
    plan = db_session().get(Plan, plan_id)
    if plan is None or plan.status is not PlanStatus.ACTIVE:
        abort(404)
    calc = clawbacks().calculation(plan_id)
    form = forms.ProposeClawbackForm()
    if not form.is_submitted() and calc.proposal > 0:
        form.amount.data = calc.proposal
    if form.validate_on_submit():
        proposal = attempt(form, lambda: _propose(plan, form))
        if proposal is not None:
            flash(f"A clawback of {format_pence(proposal.amount)} was proposed. {_next(proposal)}")
            return redirect(url_for(".clawback", proposal_id=proposal.id))
    _logged(plan.person_id)
    person = people_repo.get(db_session(), plan.person_id)
    html = render_template(
        "officer/clawbacks/propose.html", plan=plan, person=person, calc=calc, form=form
    )
    return html, status_code(bool(form.errors))


def _propose(plan: Plan, form: forms.ProposeClawbackForm) -> ClawbackProposal:
    """The proposal and the advocacy answer for its decision, together or not at all."""
    proposal = clawbacks().propose(
        officer=officer_name(), reason=form.reason.data, plan_id=plan.id, amount=form.amount.data
    )
    _record_advocacy(proposal, form)
    return proposal


def _record_advocacy(proposal: ClawbackProposal, form: Any) -> None:
    advocacy.record_need(
        db_session(),
        clock(),
        person_id=proposal.person_id,
        decision=decision_key(proposal.id),
        substantial_difficulty=form.substantial_difficulty.data == "yes",
        appropriate_person=form.appropriate_person.data == "yes",
        officer=officer_name(),
        reason=form.advocacy_note.data,
    )


def _next(proposal: ClawbackProposal) -> str:
    if proposal.needs_second_approval:
        return "A second officer, a senior officer other than you, must approve it."
    return "A senior officer must approve it before the holder is told."


# -- one proposal -----------------------------------------------------------------------------

# action -> (form class, what it does, the banner)
Step = tuple[type[FlaskForm], Callable[[ClawbackProposal, Any], object], str]


def _edit_down(p: ClawbackProposal, form: Any) -> object:
    return clawbacks().edit_down(
        p.id, form.amount.data, officer=officer_name(), reason=form.reason.data
    )


def _advocacy(p: ClawbackProposal, form: Any) -> object:
    _record_advocacy(p, form)
    return p


def _appoint(p: ClawbackProposal, form: Any) -> object:
    need = clawbacks_repo.latest_advocacy(db_session(), [decision_key(p.id)]).get(
        decision_key(p.id)
    )
    if need is None:
        raise UnknownRecord("record whether the person needs an advocate first")
    return advocacy.appoint_advocate(
        db_session(), clock(), need.id, form.advocate_name.data,
        officer=officer_name(), reason=form.reason.data,
    )  # fmt: skip


def _approve(p: ClawbackProposal, form: Any) -> object:
    require_senior_officer(signed_in_user())
    return clawbacks().approve(
        p.id, officer=officer_name(), reason=form.reason.data, urgent=bool(form.urgent.data)
    )


def _notice_sent(p: ClawbackProposal, form: Any) -> object:
    return clawbacks().record_notice_sent(
        p.id, sent_on=forms.given(form.sent_on.data), officer=officer_name(),
        reason=form.reason.data,
    )  # fmt: skip


def _respond(p: ClawbackProposal, form: Any) -> object:
    return clawbacks().record_holder_response(p.id, form.response.data, officer=officer_name())


def _execute(p: ClawbackProposal, form: Any) -> object:
    return clawbacks().execute(p.id, officer=officer_name(), reason=form.reason.data)


def _cancel(p: ClawbackProposal, form: Any) -> object:
    return clawbacks().cancel(p.id, officer=officer_name(), reason=form.reason.data)


STEPS: dict[str, Step] = {
    "edit-down": (forms.EditDownForm, _edit_down, "The amount was changed."),
    "advocacy": (forms.AdvocacyForm, _advocacy, "The answer about advocacy was recorded."),
    "advocate": (forms.AppointAdvocateForm, _appoint, "The advocate was recorded."),
    "approve": (
        forms.ApproveForm,
        _approve,
        "The clawback was approved and the holder's notice queued. It can be executed once "
        "the notice has been sent and their time to respond is over.",
    ),
    "notice-sent": (
        forms.NoticeSentForm,
        _notice_sent,
        "The letter was recorded: the holder's time to respond counts from the day it was sent.",
    ),
    "holder-response": (forms.HolderResponseForm, _respond, "The holder's response was recorded."),
    "execute": (forms.ReasonOnlyForm, _execute, "The money was recovered."),
    "cancel": (forms.ReasonOnlyForm, _cancel, "The clawback was cancelled."),
}


def _forms(submitted: str | None = None, form: FlaskForm | None = None) -> dict[str, FlaskForm]:
    """A fresh form for each step (prefixed: their fields share a page), except the one
    just submitted."""
    built = {}
    for step, (form_class, _, _) in STEPS.items():
        built[step] = (
            form
            if step == submitted and form is not None
            else form_class(formdata=None, prefix=step)
        )
    return built


@officer_pages.get("/clawbacks/<int:proposal_id>")
def clawback(proposal_id: int) -> str:
    proposal = _proposal(proposal_id)
    return _page(proposal, _forms())


@officer_pages.post("/clawbacks/<int:proposal_id>/<step>")
def clawback_step(proposal_id: int, step: str) -> Page:
    if step not in STEPS:
        abort(404)
    proposal = _proposal(proposal_id)
    form_class, action, banner = STEPS[step]
    form = form_class(prefix=step)
    if form.validate() and attempt(form, lambda: action(proposal, form)) is not None:
        flash(banner)
        return redirect(url_for(".clawback", proposal_id=proposal.id))
    return _page(proposal, _forms(step, form)), 400


def _proposal(proposal_id: int) -> ClawbackProposal:
    proposal = clawbacks_repo.get(db_session(), proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def _page(proposal: ClawbackProposal, step_forms: dict[str, FlaskForm]) -> str:
    session = db_session()
    _logged(proposal.person_id)
    key = decision_key(proposal.id)
    need = clawbacks_repo.latest_advocacy(session, [key]).get(key)
    threshold = load_settings(session).clawback_second_approval_above_pence
    plan = clawbacks_repo.plan_of_budget(session, proposal.budget_account_id)
    now = today(clock())
    window_open = (
        proposal.respond_by is not None
        and proposal.holder_response is None
        and now <= proposal.respond_by
    )
    return render_template(
        "officer/clawbacks/clawback.html",
        proposal=proposal,
        person=clawbacks_repo.person_of(session, proposal),
        plan=plan,
        current=_current(plan),
        need=need,
        check=approval_check(proposal, signed_in_user(), need, threshold),
        threshold=threshold,
        history=clawbacks_repo.history(session, proposal.id),
        notice=clawbacks_repo.notice_of(session, proposal.id),
        forms=step_forms,
        live=proposal.status in LIVE,
        window_open=window_open,
        respond_by=london_date(proposal.respond_by) if proposal.respond_by else None,
    )


def _current(plan: Plan | None) -> SurplusCalculation | None:
    """The calculation as it stands now (execution is checked against it again)."""
    if plan is None or plan.status is not PlanStatus.ACTIVE:
        return None
    try:
        return clawbacks().calculation(plan.id)
    except UnknownRecord:
        return None
