"""Queries for officers' views of a person's record: each part of the person page in one
query (plans with their lines in two), so a record costs the same however busy it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from ledger.models import (
    Account,
    AccountKind,
    Card,
    CaringRelationship,
    Person,
    Plan,
    PlanStatus,
)
from ledger.repositories.cards import CardBalanceRow
from monitoring.models import (
    ClawbackProposal,
    EmergencyLoad,
    Flag,
    FlagStatus,
    LifeEvent,
    ReviewRequest,
    Severity,
)

OPEN_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.IN_REVIEW)


def cards_of_person(session: Session, person_id: int) -> list[CardBalanceRow]:
    """The cards the person holds, and companion cards drawing on pots in their budget,
    with the balances of the accounts they draw on."""
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
        .where(or_(Card.holder_id == person_id, Account.owner_id == person_id))
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


@dataclass(frozen=True)
class Relationship:
    person_id: int
    full_name: str
    council_reference: str
    relationship: str  # as recorded: "husband", "daughter" …
    shares_household: bool
    is_carer: bool  # True: they care for this person; False: this person cares for them


def relationships_of(session: Session, person_id: int) -> list[Relationship]:
    """Who cares for the person, and whom the person cares for."""
    other = aliased(Person)
    is_carer = CaringRelationship.cared_for_id == person_id
    rows = session.execute(
        select(
            other.id,
            other.full_name,
            other.council_reference,
            CaringRelationship.relationship,
            CaringRelationship.shares_household,
            case((is_carer, True), else_=False),
        )
        .join(
            other,
            other.id
            == case((is_carer, CaringRelationship.carer_id), else_=CaringRelationship.cared_for_id),
        )
        .where(
            or_(
                CaringRelationship.carer_id == person_id,
                CaringRelationship.cared_for_id == person_id,
            )
        )
        .order_by(CaringRelationship.id)
    ).all()
    return [Relationship(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5])) for r in rows]


def plans_of(session: Session, person_id: int) -> Sequence[Plan]:
    """The person's plans with their lines, active first, newest first."""
    return (
        session.execute(
            select(Plan)
            .options(selectinload(Plan.lines))
            .where(Plan.person_id == person_id)
            .order_by((Plan.status != PlanStatus.ACTIVE), Plan.id.desc())
        )
        .scalars()
        .all()
    )


def budgets_of(session: Session, person_id: int) -> Sequence[Account]:
    """The person's personal budget accounts (an emergency load goes to one)."""
    return (
        session.execute(
            select(Account)
            .where(Account.owner_id == person_id, Account.kind == AccountKind.PERSONAL_BUDGET)
            .order_by(Account.id)
        )
        .scalars()
        .all()
    )


def life_events_of(session: Session, person_id: int) -> Sequence[LifeEvent]:
    return (
        session.execute(
            select(LifeEvent)
            .where(LifeEvent.person_id == person_id)
            .order_by(LifeEvent.starts_on.desc(), LifeEvent.id.desc())
        )
        .scalars()
        .all()
    )


_SEVERITY_ORDER = case({s.value: -s.rank for s in Severity}, value=Flag.severity, else_=0)


def open_flags_of(session: Session, person_id: int) -> Sequence[Flag]:
    """The person's open flags, most severe first, then the soonest due."""
    return (
        session.execute(
            select(Flag)
            .where(Flag.person_id == person_id, Flag.status.in_(OPEN_FLAG_STATUSES))
            .order_by(_SEVERITY_ORDER, Flag.sla_due_at, Flag.id)
        )
        .scalars()
        .all()
    )


def clawbacks_of(session: Session, person_id: int) -> Sequence[ClawbackProposal]:
    return (
        session.execute(
            select(ClawbackProposal)
            .where(ClawbackProposal.person_id == person_id)
            .order_by(ClawbackProposal.id.desc())
        )
        .scalars()
        .all()
    )


def emergency_loads_of(session: Session, person_id: int) -> Sequence[EmergencyLoad]:
    return (
        session.execute(
            select(EmergencyLoad)
            .where(EmergencyLoad.person_id == person_id)
            .order_by(EmergencyLoad.id.desc())
        )
        .scalars()
        .all()
    )


def reviews_of(session: Session, person_id: int) -> Sequence[ReviewRequest]:
    return (
        session.execute(
            select(ReviewRequest)
            .where(ReviewRequest.person_id == person_id)
            .order_by(ReviewRequest.id.desc())
        )
        .scalars()
        .all()
    )
