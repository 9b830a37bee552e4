"""``GET /api/cards/{id}/balance`` and ``…/transactions`` (keyset pages by transfer id)."""

from __future__ import annotations

import logging
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from adapters.repositories import payments as payments_repo
from ledger.errors import UnknownRecord
from ledger.models import Card
from ledger.repositories import cards as cards_repo
from ledger.service import Ledger, describe
from portal.api.access import current_client, scoped
from portal.api.blueprint import ApiBlueprint
from portal.api.problems import register_problem_handlers
from portal.api.schemas import BalanceSchema, TransactionsPageSchema, TransactionsQuerySchema
from portal.app import clock, db_session
from portal.repositories.card_transactions import transfers_after

log = logging.getLogger(__name__)

cards_api = ApiBlueprint(
    "cards", __name__, url_prefix="/api/cards", description="Card balances and transactions."
)
register_problem_handlers(cards_api)


def _card(session: Session, card_id: int) -> Card:
    """The card, if it is one of the client's provider's cards (else 404: another
    provider's cards are not the client's to know about)."""
    card = cards_repo.get(session, card_id)
    if card.provider != current_client().provider:
        raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
    return card


def _accountable(card_id: int, what: str) -> None:
    # Caldicott: every access to a person's money is accountable, machines' included.
    log.info("api client %s read %s of card %s", current_client().client_id, what, card_id)


@cards_api.route("/<int:card_id>/balance", methods=["GET"])
@scoped(cards_api, "cards:read")
@cards_api.response(200, BalanceSchema)
@cards_api.alt_response(401, "UNAUTHORIZED")
@cards_api.alt_response(403, "FORBIDDEN")
@cards_api.alt_response(404, "NOT_FOUND")
@cards_api.doc(summary="A card's balances")
def card_balance(card_id: int) -> dict[str, Any]:
    session = db_session()
    card = _card(session, card_id)
    balances = Ledger(session, clock()).balances(card.account_id)
    _accountable(card_id, "the balance")
    return {
        "card_id": card.id,
        "kind": card.kind,
        "status": card.status,
        "last4": card.last4,
        "account_id": card.account_id,
        "currency": "GBP",
        "posted": balances.posted,
        "available": balances.available,
        "pending_debits": balances.pending_debits,
        "pending_credits": balances.pending_credits,
    }


@cards_api.route("/<int:card_id>/transactions", methods=["GET"])
@scoped(cards_api, "cards:read")
@cards_api.arguments(TransactionsQuerySchema, location="query", as_kwargs=True)
@cards_api.response(200, TransactionsPageSchema)
@cards_api.alt_response(401, "UNAUTHORIZED")
@cards_api.alt_response(403, "FORBIDDEN")
@cards_api.alt_response(404, "NOT_FOUND")
@cards_api.doc(
    summary="A card's transactions",
    description="Every transfer on the account the card draws on (holds, their "
    "settlement, loads, payments …), oldest first, by transfer id. Pass the last id of a "
    "page as `after` for the next; `next` is that URL, null on the last page.",
)
def card_transactions(card_id: int, after: int, limit: int) -> dict[str, Any]:
    session = db_session()
    card = _card(session, card_id)
    found = transfers_after(session, card.account_id, after, limit + 1)
    page, more = found[:limit], len(found) > limit
    _accountable(card_id, "transactions")
    account = card.account_id
    abroad = payments_repo.merchant_amounts(session, page)
    return {
        "transactions": [
            {
                "id": t.id,
                "effective_at": t.effective_at,
                "created_at": t.created_at,
                "code": t.code,
                "phase": t.phase,
                "direction": "in" if t.credit_account_id == account else "out",
                "amount": t.amount,
                "description": describe(t),
                "card_id": t.card_id,
                "merchant_name": t.merchant_name,
                "merchant_amount": abroad.get(t.id, (None, None))[0],
                "merchant_currency": abroad.get(t.id, (None, None))[1],
                "mcc": t.mcc,
                "category": t.category,
                "payee": t.payee,
                "reference": t.reference,
                "pending_id": t.pending_id,
                "reverses_id": t.reverses_id,
            }
            for t in page
        ],
        "next": url_for("cards.card_transactions", card_id=card_id, after=page[-1].id, limit=limit)
        if more
        else None,
    }
