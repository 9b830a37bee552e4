"""Holder pages. Each finds the card through what the viewer may see: a card they may not
see is not found (404), so no page ever shows another person's data."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request
from werkzeug.wrappers import Response

from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.holder import pages
from portal.holder.forms import PaymentSearchForm
from portal.holder.periods import london_midnight
from portal.holder.statements import StatementHeading, statement_csv, statement_pdf
from portal.repositories.holder_cards import CardView, cards_for_person
from portal.repositories.payments import PaymentSearch

holder_pages = Blueprint("holder", __name__)


def _person_id() -> int:
    person_id = signed_in_user().person_id
    if person_id is None:  # the users table does not allow it
        abort(403)
    return person_id


def _cursor(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@holder_pages.get("/cards")
def my_cards() -> str:
    cards = cards_for_person(db_session(), _person_id())
    return render_template("holder/my_cards.html", cards=cards)


@holder_pages.get("/cards/<int:card_id>")
def card(card_id: int) -> str:
    page = pages.card_page(db_session(), clock(), _person_id(), card_id)
    if page is None:
        abort(404)
    return render_template("holder/card.html", page=page, card=page.card)


@holder_pages.get("/cards/<int:card_id>/payments")
def payments(card_id: int) -> str | tuple[str, int]:
    form = PaymentSearchForm(formdata=request.args)
    valid = form.validate() if request.args else True
    search = PaymentSearch()
    if valid:
        search = PaymentSearch(
            text=(form.text.data or "").strip() or None,
            start=london_midnight(form.date_from.data) if form.date_from.data else None,
            end=(
                london_midnight(form.date_to.data + timedelta(days=1))
                if form.date_to.data
                else None
            ),
        )
    found = pages.card_payments(
        db_session(),
        _person_id(),
        card_id,
        search,
        before=_cursor("before"),
        after=_cursor("after"),
    )
    if found is None:
        abort(404)
    # The search, kept in the links to newer and older pages.
    query = {
        key: request.args.getlist(key)
        for key in request.args
        if key not in ("before", "after", "search")
    }
    html = render_template(
        "holder/payments.html",
        card=found.card,
        page=found.page,
        form=form,
        query=query,
        searched=bool(search.text or search.start or search.end),
    )
    return html if valid else (html, 400)


@holder_pages.get("/cards/<int:card_id>/plan")
def plan(card_id: int) -> str:
    page = pages.card_plan(db_session(), clock(), _person_id(), card_id)
    if page is None:
        abort(404)
    return render_template("holder/plan.html", card=page.card, summary=page.summary)


@holder_pages.get("/cards/<int:card_id>/statements")
def statements(card_id: int) -> str:
    page = pages.statement_periods(db_session(), clock(), _person_id(), card_id)
    if page is None:
        abort(404)
    return render_template("holder/statements.html", card=page.card, periods=page.periods)


@holder_pages.get("/cards/<int:card_id>/statements/<int:number>.<any(csv, pdf):fmt>")
def statement_file(card_id: int, number: int, fmt: str) -> Response:
    found = pages.period_statement(db_session(), clock(), _person_id(), card_id, number)
    if found is None:
        abort(404)
    heading = StatementHeading(
        council_name=current_app.config["COUNCIL_NAME"],
        service_name=current_app.config["SERVICE_NAME"],
        card_text=card_text(found.card),
        account_text=found.card.pot_name or f"Personal budget of {found.card.holder_name}",
        period=found.period,
    )
    name = f"statement-card-{found.card.last4}-period-{number}-{found.period.starts_on}.{fmt}"
    if fmt == "csv":
        body: str | bytes = statement_csv(found.statement, heading)
        mimetype = "text/csv"
    else:
        body = statement_pdf(found.statement, heading)
        mimetype = "application/pdf"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def card_text(card: CardView) -> str:
    kinds = {"primary": "Card", "carer": "Carer's card", "companion": "Companion card"}
    return f"{kinds[card.kind.value]} ending {card.last4}"
