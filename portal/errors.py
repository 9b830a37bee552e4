"""Error pages. A domain error is mapped here, once, to a GOV.UK error summary: on a form,
against the field it is about (``attempt``); anywhere else, as an error page. Under
``/api/`` errors are problem JSON instead (``portal.api.problems``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, render_template
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from ledger.errors import DomainError
from portal.api.problems import http_problem, is_api_request, server_problem
from portal.app import db_session, roll_back_request

log = logging.getLogger(__name__)
T = TypeVar("T")

# The form field each named domain error is about. A form may name its own for a code
# (``error_fields``, for a generic code such as invalid_record). An error not listed, or
# whose field the form does not have, is shown against the form's first FALLBACK_FIELDS.
DOMAIN_ERROR_FIELDS: dict[str, str] = {
    "invalid_amount": "amount",
    "insufficient_funds": "amount",
    "exceeds_recoverable": "amount",
    "idempotency_conflict": "amount",
    "advocacy_not_recorded": "substantial_difficulty",
    "advocate_required": "urgent",
    "response_window_open": "reason",
    "notice_not_sent": "reason",
    "second_officer_required": "reason",
    "not_permitted": "reason",
    "invalid_transition": "reason",
    "card_closed": "reason",
    "account_closed": "reason",
}
FALLBACK_FIELDS = ("reason", "note", "response")


def attempt(form: FlaskForm, action: Callable[[], T]) -> T | None:
    """Run ``action`` (one service call) in a savepoint. A domain error undoes everything
    it did, is shown on ``form`` in its error summary, and gives None: bad input changes
    nothing, while what the request did before (such as logging a record view) stays."""
    savepoint = db_session().begin_nested()
    try:
        result = action()
    except DomainError as error:
        savepoint.rollback()
        show_on_form(form, error)
        return None
    savepoint.commit()
    return result


def show_on_form(form: FlaskForm, error: DomainError) -> None:
    """Show a domain error on a form, against the field it is about."""
    message = error.detail[:1].upper() + error.detail[1:]
    own: dict[str, str] = getattr(form, "error_fields", {})
    wanted = [own.get(error.code), DOMAIN_ERROR_FIELDS.get(error.code), *FALLBACK_FIELDS]
    visible = [f for f in form if f.type not in ("CSRFTokenField", "HiddenField", "SubmitField")]
    field = next((form[name] for name in wanted if name and name in form), None)
    field = field or (visible[0] if visible else None)
    if field is None:
        raise error
    field.errors = [*field.errors, message]


_HTTP_PAGES: dict[int, tuple[str, str]] = {
    400: ("There is a problem with your request", "Go back and try again."),
    401: ("You need to sign in", "Sign in to see this page."),
    403: ("You cannot see this page", "Your account does not give you access to it."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("There is a problem with your request", "Go back and try again."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
}


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> tuple[str, int]:
        roll_back_request()
        return render_template("errors/domain_error.html", error=error), error.http_status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        return (
            render_template(
                "errors/http.html",
                title="Your form has expired",
                detail="For your security, forms stop working after a while or after you sign "
                "in or out. Go back, reload the page and try again.",
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
        code = error.code or 500
        roll_back_request()
        if is_api_request():  # under /api/ but no API route matched (404, 405)
            return http_problem(error)
        if code not in _HTTP_PAGES:
            return error
        title, detail = _HTTP_PAGES[code]
        return render_template("errors/http.html", title=title, detail=detail), code

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> tuple[str, int] | Response:
        log.error("unhandled error", exc_info=error.original_exception)
        if is_api_request():
            return server_problem()
        return (
            render_template(
                "errors/http.html",
                title="Sorry, there is a problem with the service",
                detail="Try again later. Nothing you asked for has been changed.",
            ),
            500,
        )
