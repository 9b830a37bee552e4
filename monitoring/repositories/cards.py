"""Queries on cards for officer actions and scheduled jobs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from ledger.models import Card, CardKind, CardStatus
from monitoring.models import AuditEntry


def lock(session: Session, card_id: int) -> Card:
    """The card, locked: a suspension waits for an in-flight payment decision (which holds
    a share lock) and the next decision sees the new status."""
    card = session.execute(
        select(Card)
        .where(Card.id == card_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if card is None:
        raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
    return card


def budget_card(session: Session, budget_account_id: int) -> Card | None:
    """The budget holder's own card (primary or carer's), if it has one that is not closed."""
    return session.execute(
        select(Card)
        .where(
            Card.account_id == budget_account_id,
            Card.kind.in_([CardKind.PRIMARY, CardKind.CARER]),
            Card.status != CardStatus.CLOSED,
        )
        .order_by(Card.id)
        .limit(1)
    ).scalar_one_or_none()


def last_status_change(session: Session, card_id: int, action: str) -> AuditEntry | None:
    return session.execute(
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == "card",
            AuditEntry.subject_id == card_id,
            AuditEntry.action == action,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar_one_or_none()
