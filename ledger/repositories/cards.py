"""Queries on cards and companion pots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from ledger.models import Account, Card, CardKind, CardStatus, CompanionPot, Person


def get(session: Session, card_id: int) -> Card:
    card = session.get(Card, card_id)
    if card is None:
        raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
    return card


def status_for_payment(session: Session, card_id: int) -> Card:
    """The card, share-locked so a suspension waits for an in-flight payment decision."""
    card = session.execute(
        select(Card)
        .where(Card.id == card_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if card is None:
        raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
    return card


def by_provider_token(session: Session, provider: str, token: str) -> Card | None:
    return session.execute(
        select(Card).where(Card.provider == provider, Card.provider_card_token == token)
    ).scalar_one_or_none()


def get_pot(session: Session, pot_id: int) -> CompanionPot:
    pot = session.get(CompanionPot, pot_id)
    if pot is None:
        raise UnknownRecord(f"companion pot {pot_id} does not exist", pot_id=pot_id)
    return pot


def all_cards(session: Session) -> Sequence[Card]:
    return session.execute(select(Card).order_by(Card.id)).scalars().all()


@dataclass(frozen=True)
class CardBalanceRow:
    card_id: int
    kind: CardKind
    status: CardStatus
    last4: str
    holder_name: str
    account_name: str
    available: int
    pending: int
    posted: int


def cards_with_balances(session: Session) -> list[CardBalanceRow]:
    """Every card with the balances of the account it draws on, in one query."""
    rows = session.execute(
        select(
            Card.id,
            Card.kind,
            Card.status,
            Card.last4,
            Person.full_name,
            Account.name,
            Account.credits_posted,
            Account.debits_posted,
            Account.debits_pending,
        )
        .join(Person, Person.id == Card.holder_id)
        .join(Account, Account.id == Card.account_id)
        .order_by(Person.full_name, Card.id)
    ).all()
    return [
        CardBalanceRow(
            card_id=r[0],
            kind=r[1],
            status=r[2],
            last4=r[3],
            holder_name=r[4],
            account_name=r[5],
            available=r[6] - r[7] - r[8],
            pending=r[8],
            posted=r[6] - r[7],
        )
        for r in rows
    ]
