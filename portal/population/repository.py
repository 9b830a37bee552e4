"""Queries the population package reads with: the flags raised on its people, and a
fingerprint of everything a population is made of (to show the same seed gives the same
population)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.models import InboundEvent
from ledger.models import Card, CaringRelationship, LedgerHead, Person, Plan, PlanLine
from monitoring.models import Flag, LifeEvent


def flagged_subjects(session: Session, people: set[int]) -> set[tuple[str, str, int]]:
    """(monitor, subject type, subject id) of every flag, open or closed, on these people."""
    rows = session.execute(
        select(Flag.monitor, Flag.subject_type, Flag.subject_id, Flag.person_id)
    ).all()
    return {(m, t, int(i)) for m, t, i, person in rows if person in people}


def prefix_used(session: Session, prefix: str) -> bool:
    """Whether someone's council reference already starts with ``prefix-``."""
    found = session.execute(
        select(Person.id).where(Person.council_reference.startswith(f"{prefix}-")).limit(1)
    ).first()
    return found is not None


def fingerprint(session: Session) -> str:
    """SHA-256 over the people, relationships, plans, lines, cards, life events, inbox
    and the ledger's chain head (which covers every transfer, with its times and ids)."""
    digest = hashlib.sha256()
    queries: list[Iterable[Any]] = [
        session.execute(select(LedgerHead.last_transfer_id, LedgerHead.last_hash)),
        session.execute(
            select(
                Person.id, Person.council_reference, Person.full_name, Person.date_of_birth
            ).order_by(Person.id)
        ),
        session.execute(
            select(
                CaringRelationship.carer_id,
                CaringRelationship.cared_for_id,
                CaringRelationship.relationship,
                CaringRelationship.shares_household,
            ).order_by(CaringRelationship.id)
        ),
        session.execute(
            select(
                Plan.id,
                Plan.person_id,
                Plan.budget_per_period,
                Plan.client_contribution_per_period,
                Plan.cash_allowance_per_period,
                Plan.starts_on,
                Plan.review_date,
            ).order_by(Plan.id)
        ),
        session.execute(
            select(
                PlanLine.id,
                PlanLine.category,
                PlanLine.amount_per_period,
                PlanLine.one_off,
                PlanLine.agreed_payees,
            ).order_by(PlanLine.id)
        ),
        session.execute(
            select(
                Card.id, Card.kind, Card.provider_card_token, Card.last4, Card.account_id
            ).order_by(Card.id)
        ),
        session.execute(
            select(LifeEvent.person_id, LifeEvent.kind, LifeEvent.starts_on).order_by(LifeEvent.id)
        ),
        session.execute(
            select(InboundEvent.provider_event_id, InboundEvent.status).order_by(InboundEvent.id)
        ),
    ]
    for rows in queries:
        for row in rows:
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    return digest.hexdigest()
