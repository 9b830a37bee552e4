"""Queries on people for the portal: look-ups, and the officers' list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Card, Person


def by_reference(session: Session, council_reference: str) -> Person | None:
    return session.execute(
        select(Person).where(Person.council_reference == council_reference.strip())
    ).scalar_one_or_none()


def get(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


@dataclass(frozen=True)
class PersonRow:
    person_id: int
    council_reference: str
    full_name: str
    cards: int


def people_with_cards(session: Session, *, limit: int = 200) -> list[PersonRow]:
    """People by name with how many cards they hold, the first ``limit`` of them."""
    cards = select(Card.holder_id, func.count().label("n")).group_by(Card.holder_id).subquery()
    rows = session.execute(
        select(Person.id, Person.council_reference, Person.full_name, cards.c.n)
        .outerjoin(cards, cards.c.holder_id == Person.id)
        .order_by(Person.full_name, Person.id)
        .limit(limit)
    ).all()
    return [PersonRow(r[0], r[1], r[2], r[3] or 0) for r in rows]
