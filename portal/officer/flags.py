"""The officers' flag pages: the queue, with filters and bulk assign or dismiss, and a
flag's page with its triage actions (officers and senior officers; the guard is attached
where the blueprint is registered).

Every action is a POST with a CSRF token that calls one service inside a savepoint: a
domain error undoes all of it and is shown in the error summary, bad input is refused
before any service is called, and success redirects to a page with a banner (PRG).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ledger.errors import InvalidRecord
from monitoring.dates import start_of_day, today
from monitoring.flags import Triage
from monitoring.models import DismissReason, Flag, Severity
from monitoring.monitors import ALL_MONITORS
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.errors import attempt
from portal.officer import flag_forms as forms
from portal.officer import flag_words as words
from portal.officer.common import officer_actions, officer_name
from portal.officer.flag_detail import CHART_WEEKS, category_label, flag_page
from portal.officer.flag_words import monitor_title
from portal.repositories import flag_queue
from portal.repositories.flag_queue import QueueFilter, QueueSort

flag_pages = Blueprint("officer_flags", __name__, url_prefix="/officer/flags")

PAGE_SIZE = 50


# -- the queue ---------------------------------------------------------------------------


@flag_pages.get("")
def queue() -> tuple[str, int]:
    return _queue_page(forms.BulkActionForm(formdata=None))


@flag_pages.post("/bulk")
def bulk() -> Response | tuple[str, int]:
    session = db_session()
    form = forms.BulkActionForm()
    form.set_choices(flag_queue.officers(session))
    if not form.validate():
        return _queue_page(form, 400)
    triage = Triage(session, clock())
    ids = sorted(set(form.flag.data))
    if form.assign.data:
        assignee, reason = form.assign_to.data, form.assign_reason.data.strip()
        done = attempt(
            form,
            lambda: [
                triage.assign(i, officer=officer_name(), assignee=assignee, reason=reason)
                for i in ids
            ],
        )
        banner = f"{_flags(len(ids))} assigned to {assignee}"
    else:
        why, detail = DismissReason(form.dismiss_reason.data), form.dismiss_detail.data.strip()
        done = attempt(
            form,
            lambda: [
                triage.dismiss(i, officer=officer_name(), reason=why, detail=detail) for i in ids
            ],
        )
        banner = f"{_flags(len(ids))} dismissed"
    if done is None:  # one flag refused (closed meanwhile, say): none of them changed
        form.flag.errors = [f"{e.rstrip('.')}. Nothing was changed." for e in form.flag.errors]
        return _queue_page(form, 400)
    flash(banner)
    return redirect(url_for("officer_flags.queue", **_query()))


def _queue_page(bulk_form: forms.BulkActionForm, status: int = 200) -> tuple[str, int]:
    session = db_session()
    officers = flag_queue.officers(session)
    bulk_form.set_choices(officers)
    form = forms.QueueFilterForm(formdata=request.args)
    form.set_choices([(m.name, m.title) for m in ALL_MONITORS], officers)
    valid = form.validate() if request.args else True
    filters, sort = _filters(form) if valid else (QueueFilter(), QueueSort.SLA)
    page = flag_queue.queue_page(
        session, clock().now(), filters, sort, number=_page_number(), size=PAGE_SIZE
    )
    html = render_template(
        "officer/flags/queue.html",
        form=form,
        bulk_form=bulk_form,
        page=page,
        number=page.number,
        pages=page.pages,
        query=_query(),
        now=clock().now(),
        monitor_title=monitor_title,
        filtered=bool(_query()),
        page_numbers=_page_numbers(page.number, page.pages),
        age=_age,
    )
    if not valid:
        status = 400
    return html, status


def _filters(form: forms.QueueFilterForm) -> tuple[QueueFilter, QueueSort]:
    now = clock().now()
    after = before = None
    if form.age.data:
        _, older_than, newer_than = forms.AGES[form.age.data]
        before = now - timedelta(days=older_than) if older_than is not None else None
        after = now - timedelta(days=newer_than) if newer_than is not None else None
    assignee = form.assignee.data or None
    return (
        QueueFilter(
            status=form.status.data or flag_queue.ACTIVE,
            severities=tuple(Severity(s) for s in form.severity.data or ()),
            monitor=form.monitor.data or None,
            assignee=officer_name() if assignee == forms.ME else assignee,
            unassigned=assignee == forms.NO_ONE,
            raised_after=after,
            raised_before=before,
            include_snoozed=bool(form.snoozed.data),
        ),
        QueueSort(form.sort.data or QueueSort.SLA.value),
    )


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 6 else 1


def _query() -> dict[str, Any]:
    """The queue's filters from the query string, to keep in links and redirects."""
    return {k: request.args.getlist(k) for k in request.args if k != "page"}


def _page_numbers(current: int, pages: int) -> list[int | None]:
    """The first, last, current and neighbouring pages; None where pages are left out."""
    wanted = sorted(n for n in {1, current - 1, current, current + 1, pages} if 1 <= n <= pages)
    out: list[int | None] = []
    for before, n in zip([0, *wanted], wanted, strict=False):
        if n - before > 1:
            out.append(None)
        out.append(n)
    return out


def _age(raised_at: datetime) -> str:
    """How long ago, in the largest whole unit: "3 days", "1 hour"."""
    seconds = max(0, int((clock().now() - raised_at).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def _flags(count: int) -> str:
    return "1 flag" if count == 1 else f"{count} flags"


# -- a flag's page -----------------------------------------------------------------------


@flag_pages.get("/<int:flag_id>")
def flag(flag_id: int) -> tuple[str, int]:
    return _flag_page(flag_id)


def _flag_page(
    flag_id: int, failed: tuple[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    """The flag's page; ``failed`` is the action whose form has errors to show."""
    session = db_session()
    found = flag_page(session, clock(), signed_in_user(), flag_id, request.path)
    if found is None:
        abort(404)
    me = officer_name()
    action_forms: dict[str, Any] = {
        name: form_class(formdata=None, prefix=name) for name, form_class in ACTIONS.items()
    }
    if failed is not None:
        action_forms[failed[0]] = failed[1]
    action_forms["assign"].set_choices(me, flag_queue.officers(session))
    html = render_template(
        "officer/flags/flag.html",
        page=found,
        flag=found.flag,
        forms=action_forms,
        failed=failed[0] if failed else None,
        now=clock().now(),
        suggested_action=lambda a: words.SUGGESTED_ACTION_LABELS[a],
        dismiss_reason=lambda r: words.DISMISS_REASON_LABELS[r],
        history_action=words.history_action,
        history_changes=words.history_changes,
        category=category_label,
        chart_weeks=CHART_WEEKS,
    )
    return html, status


ACTIONS: dict[str, type[FlaskForm]] = {
    "assign": forms.AssignForm,
    "review": forms.StartReviewForm,
    "snooze": forms.SnoozeForm,
    "unsnooze": forms.UnsnoozeForm,
    "note": forms.NoteForm,
    "actioned": forms.ActionedForm,
    "dismiss": forms.DismissForm,
    "escalate": forms.EscalateForm,
}


@flag_pages.post("/<int:flag_id>/<any(" + ", ".join(ACTIONS) + "):action>")
def act(flag_id: int, action: str) -> Response | tuple[str, int]:
    session = db_session()
    flag = session.get(Flag, flag_id)
    if flag is None:
        abort(404)
    form = ACTIONS[action](prefix=action)
    if isinstance(form, forms.AssignForm):
        form.set_choices(officer_name(), flag_queue.officers(session))
    valid = form.validate()
    if isinstance(form, forms.SnoozeForm):
        valid = form.check_date(today(clock())) and valid
    if not valid:
        return _flag_page(flag_id, (action, form), 400)
    if attempt(form, lambda: _DO[action](flag_id, form)) is None:
        return _flag_page(flag_id, (action, form), 400)
    flash(DONE[action])
    return redirect(url_for("officer_flags.flag", flag_id=flag_id))


DONE = {
    "assign": "The flag was assigned",
    "review": "The review has started",
    "snooze": "The flag is snoozed",
    "unsnooze": "The snooze has ended",
    "note": "Your note was added",
    "actioned": "The flag is marked as actioned",
    "dismiss": "The flag was dismissed",
    "escalate": "The flag was escalated to safeguarding",
}


def _triage() -> Triage:
    return Triage(db_session(), clock())


def _snooze(flag_id: int, form: Any) -> object:
    until = start_of_day(form.until.data)
    return _triage().snooze(flag_id, officer=officer_name(), until=until, reason=form.reason.data)


def _escalate(flag_id: int, form: Any) -> object:
    flag = db_session().get(Flag, flag_id)
    assert flag is not None
    if flag.person_id is None:
        raise InvalidRecord("this flag names no person to raise a safeguarding concern about")
    return officer_actions().escalate_to_safeguarding(
        flag.person_id,
        concern=form.concern.data,
        officer=officer_name(),
        reason=form.reason.data,
        flag_id=flag_id,
    )


_DO: dict[str, Callable[[int, Any], object]] = {
    "assign": lambda i, f: _triage().assign(
        i, officer=officer_name(), assignee=f.assignee.data, reason=f.reason.data
    ),
    "review": lambda i, f: _triage().start_review(i, officer=officer_name(), reason=f.reason.data),
    "snooze": _snooze,
    "unsnooze": lambda i, f: _triage().unsnooze(i, officer=officer_name(), reason=f.reason.data),
    "note": lambda i, f: _triage().add_note(i, officer=officer_name(), text=f.text.data),
    "actioned": lambda i, f: _triage().mark_actioned(
        i, officer=officer_name(), reason=f.reason.data
    ),
    "dismiss": lambda i, f: _triage().dismiss(
        i, officer=officer_name(), reason=DismissReason(f.reason.data), detail=f.detail.data
    ),
    "escalate": _escalate,
}
