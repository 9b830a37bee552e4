"""Read-only queries on the ledger's cards, in the shape the adapters need."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Account, AccountKind, Card, CardStatus, CompanionPot


@dataclass(frozen=True)
class CardRef:
    """A card and the accounts it touches: what it draws on, and the personal budget that
    account is (or belongs to, for a companion pot)."""

    card_id: int
    provider: str
    token: str
    status: CardStatus
    account_id: int
    pot_id: int | None
    budget_account_id: int


def card_ref(session: Session, provider: str, token: str) -> CardRef | None:
    """The card with this provider token. Read through the session's connection rather
    than the ORM: it needs nothing a deferred batch of postings holds back, so it does not
    make the ledger write them early."""
    row = (
        session.connection()
        .execute(
            select(
                Card.id,
                Card.status,
                Card.account_id,
                Card.pot_id,
                CompanionPot.budget_account_id,
            )
            .outerjoin(CompanionPot, CompanionPot.id == Card.pot_id)
            .where(Card.provider == provider, Card.provider_card_token == token)
        )
        .one_or_none()
    )
    if row is None:
        return None
    card_id, status, account_id, pot_id, pot_budget = row
    return CardRef(
        card_id=card_id,
        provider=provider,
        token=token,
        status=status,
        account_id=account_id,
        pot_id=pot_id,
        budget_account_id=pot_budget if pot_id is not None else account_id,
    )


def card_token(session: Session, card_id: int) -> tuple[str, str] | None:
    """(provider, provider card token) of a card."""
    row = session.execute(
        select(Card.provider, Card.provider_card_token).where(Card.id == card_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def arrears_account_id(session: Session, budget_account_id: int) -> int | None:
    return session.execute(
        select(Account.id).where(
            Account.parent_id == budget_account_id, Account.kind == AccountKind.ARREARS
        )
    ).scalar()
