"""Pages. Views parse, call one query or service, and render."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ledger.repositories import cards as cards_repo
from portal.app import db_session

pages = Blueprint("pages", __name__)


@pages.get("/")
def card_balances() -> str:
    """Every card with its available, pending and posted balances."""
    rows = cards_repo.cards_with_balances(db_session())
    return render_template(
        "card_balances.html",
        rows=rows,
        council_name=current_app.config["COUNCIL_NAME"],
        service_name=current_app.config["SERVICE_NAME"],
    )
