"""Queries for officers' views of a person's record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Account, Card, Person
from ledger.repositories.cards import CardBalanceRow


def cards_of_person(session: Session, person_id: int) -> list[CardBalanceRow]:
    """The person's cards with the balances of the accounts they draw on."""
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
        .where(Card.holder_id == person_id)
        .order_by(Card.id)
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
