"""What a holder may see: their own cards, and companion cards on pots in their budget.

Every holder page finds its card through ``card_for_viewer``, so a card the viewer may not
see is simply not found (a 404, never someone else's data).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, aliased

from ledger.models import Account, AccountKind, Card, CardKind, CardStatus, CompanionPot, Person
from ledger.service import Balances


class Relation(StrEnum):
    OWN = "own"  # the viewer holds the card
    BUDGET_OWNER = "budget_owner"  # a companion card drawing on a pot in the viewer's budget


@dataclass(frozen=True)
class CardView:
    card_id: int
    kind: CardKind
    status: CardStatus
    last4: str
    holder_name: str
    relation: Relation
    account_id: int
    account_kind: AccountKind
    # The personal budget the card's money belongs to (a pot's parent budget).
    budget_account_id: int
    pot_id: int | None
    pot_name: str | None
    available: int
    pending: int
    posted: int
    pending_credits: int

    @property
    def is_companion(self) -> bool:
        return self.kind is CardKind.COMPANION

    @property
    def balances(self) -> Balances:
        """The balances of the account the card draws on, as read with the card (the
        running totals ``Ledger.balances`` reads, without asking again)."""
        return Balances(
            account_id=self.account_id,
            posted=self.posted,
            available=self.available,
            pending_debits=self.pending,
            pending_credits=self.pending_credits,
        )


@dataclass(frozen=True)
class PotView:
    pot_id: int
    name: str
    companion_name: str
    account_id: int
    available: int
    pending: int
    posted: int
    companion_card_ids: tuple[int, ...]


def _card_rows(session: Session, person_id: int, card_id: int | None = None) -> list[Any]:
    holder = aliased(Person)
    query = (
        select(
            Card.id,
            Card.kind,
            Card.status,
            Card.last4,
            holder.full_name,
            Card.holder_id,
            Account.id,
            Account.kind,
            Account.parent_id,
            CompanionPot.id,
            CompanionPot.name,
            Account.credits_posted,
            Account.debits_posted,
            Account.debits_pending,
            Account.credits_pending,
        )
        .join(holder, holder.id == Card.holder_id)
        .join(Account, Account.id == Card.account_id)
        .outerjoin(CompanionPot, CompanionPot.id == Card.pot_id)
        .order_by(Card.holder_id != person_id, Card.id)
    )
    if card_id is not None:
        query = query.where(Card.id == card_id, Card.id.in_(_viewable(person_id)))
    else:
        # The few ids first: as a subquery of this join, PostgreSQL's estimate for pots
        # (none at all, in a council without companion cards) can make it read every card.
        ids = list(session.execute(_viewable(person_id)).scalars())
        if not ids:
            return []
        query = query.where(Card.id.in_(ids))
    return list(session.execute(query).all())


def _viewable(person_id: int) -> Any:
    """The ids of the cards the person may see: their own, and companion cards on pots in
    their budget. Two index lookups (by holder; by pot of the person), where one condition
    over both tables (holder or pot owner) would read every card."""
    return union_all(
        select(Card.id).where(Card.holder_id == person_id),
        select(Card.id)
        .join(CompanionPot, CompanionPot.id == Card.pot_id)
        .where(CompanionPot.cared_for_id == person_id),
    )


def _row(person_id: int, r: Any) -> CardView:
    kind: AccountKind = r[7]
    return CardView(
        card_id=r[0],
        kind=r[1],
        status=r[2],
        last4=r[3],
        holder_name=r[4],
        relation=Relation.OWN if r[5] == person_id else Relation.BUDGET_OWNER,
        account_id=r[6],
        account_kind=kind,
        budget_account_id=r[8] if kind is AccountKind.COMPANION_POT else r[6],
        pot_id=r[9],
        pot_name=r[10],
        available=r[11] - r[12] - r[13],
        pending=r[13],
        posted=r[11] - r[12],
        pending_credits=r[14],
    )


def cards_for_person(session: Session, person_id: int) -> list[CardView]:
    """The person's own cards first, then companion cards drawing on their pots."""
    return [_row(person_id, r) for r in _card_rows(session, person_id)]


def card_for_viewer(session: Session, person_id: int, card_id: int) -> CardView | None:
    """The card if the person may see it, else None."""
    rows = _card_rows(session, person_id, card_id)
    return _row(person_id, rows[0]) if rows else None


def pots_of_budget(session: Session, budget_account_id: int) -> list[PotView]:
    """Companion pots inside a budget, with their balances and companion cards."""
    companion = aliased(Person)
    rows = session.execute(
        select(
            CompanionPot.id,
            CompanionPot.name,
            companion.full_name,
            Account.id,
            Account.credits_posted,
            Account.debits_posted,
            Account.debits_pending,
        )
        .join(companion, companion.id == CompanionPot.companion_id)
        .join(Account, Account.id == CompanionPot.account_id)
        .where(CompanionPot.budget_account_id == budget_account_id)
        .order_by(CompanionPot.id)
    ).all()
    if not rows:
        return []
    cards: dict[int, list[int]] = {}
    for pot_id, card_id in session.execute(
        select(Card.pot_id, Card.id).where(Card.pot_id.in_([r[0] for r in rows])).order_by(Card.id)
    ).all():
        if pot_id is not None:
            cards.setdefault(pot_id, []).append(card_id)
    return [
        PotView(
            pot_id=r[0],
            name=r[1],
            companion_name=r[2],
            account_id=r[3],
            available=r[4] - r[5] - r[6],
            pending=r[6],
            posted=r[4] - r[5],
            companion_card_ids=tuple(cards.get(r[0], [])),
        )
        for r in rows
    ]
