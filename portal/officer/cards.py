"""A card as officers see it: balances, status, the ledger history of the account it
draws on (keyset pages), open holds and what the card provider was told; suspending and
unsuspending it (a reason each time; the provider is told through the adapters)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.models import CardStatus
from ledger.ports import CommandOutcome
from monitoring.actions import CardStatusChange
from portal.app import clock, db_session
from portal.auth.access import signed_in_user
from portal.errors import attempt
from portal.officer.action_forms import CardStatusForm
from portal.officer.common import cursor, officer_actions, officer_name, status_code
from portal.officer.records import log_record_view
from portal.officer.views import officer_pages
from portal.repositories import officer_cards as cards_repo
from portal.repositories.officer_cards import CardSummary


def _card(card_id: int) -> CardSummary:
    found = cards_repo.card_summary(db_session(), card_id)
    if found is None:
        abort(404)
    return found


def _logged(card: CardSummary) -> None:
    """The card page and its forms show the holder's record: the view is logged."""
    log_record_view(db_session(), clock(), signed_in_user(), card.holder_id, request.path)


@officer_pages.get("/cards/<int:card_id>")
def card(card_id: int) -> str:
    found = _card(card_id)
    _logged(found)
    session = db_session()
    page = cards_repo.ledger_page(
        session, found.account_id, before=cursor("before"), after=cursor("after")
    )
    return render_template(
        "officer/cards/card.html",
        card=found,
        page=page,
        holds=cards_repo.open_holds(session, found.account_id),
        commands=cards_repo.provider_commands(session, found.card_id),
    )


ACTIONS = {
    "suspend": (CardStatus.SUSPENDED, "Suspend"),
    "unsuspend": (CardStatus.ACTIVE, "Unsuspend"),
}


@officer_pages.route(
    "/cards/<int:card_id>/<any(suspend, unsuspend):action>", methods=["GET", "POST"]
)
def change_status(card_id: int, action: str) -> str | tuple[str, int] | Response:
    found = _card(card_id)
    if found.status is CardStatus.CLOSED:
        abort(404)  # a closed card has no status to change
    status, verb = ACTIONS[action]
    form = CardStatusForm()
    form.submit.label.text = f"{verb} the card"
    if form.validate_on_submit():
        actions = officer_actions()
        change_card = actions.suspend_card if action == "suspend" else actions.unsuspend_card
        change = attempt(
            form, lambda: change_card(card_id, officer=officer_name(), reason=form.reason.data)
        )
        if change is not None:
            flash(_banner(found, change))
            return redirect(url_for(".card", card_id=card_id))
    _logged(found)
    html = render_template(
        "officer/cards/status.html", card=found, form=form, action=action, status=status, verb=verb
    )
    return html, status_code(bool(form.errors))


def _banner(card: CardSummary, change: CardStatusChange) -> str:
    what = (
        "suspended: new payments are declined"
        if change.status is CardStatus.SUSPENDED
        else "active again: payments can be approved"
    )
    already = "" if change.changed else " (it already was)"
    return f"The card ending {card.last4} is {what}{already}. {_provider_words(change.provider)}"


def _provider_words(outcome: CommandOutcome) -> str:
    if outcome.accepted:
        return f"The card provider was told and confirmed it: {outcome.detail}."
    if outcome.retryable:
        return (
            f"The card provider could not be told ({outcome.detail}). Do the same again "
            "to send it again: it has no second effect."
        )
    return f"The card provider refused the command: {outcome.detail}."
