"""Queries on the inbox: deliveries as they arrived and the events in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.orm import Session

from adapters import keys
from adapters.models import UNAPPLIED, InboundDelivery, InboundEvent, InboxStatus


def find_event(session: Session, provider: str, provider_event_id: str) -> InboundEvent | None:
    return session.execute(
        select(InboundEvent).where(
            InboundEvent.provider == provider,
            InboundEvent.provider_event_id == provider_event_id,
        )
    ).scalar_one_or_none()


def get_event(session: Session, event_id: int) -> InboundEvent | None:
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.id == event_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def find_events(session: Session, provider: str, provider_event_ids: list[str]) -> dict[str, int]:
    """Inbox ids of those of these events already stored, by provider event id (read
    through the connection: no ORM objects are needed, and this is the real-time path)."""
    wanted = [keys.fit(event_id) for event_id in provider_event_ids]
    rows = (
        session.connection()
        .execute(
            select(InboundEvent.provider_event_id, InboundEvent.id).where(
                InboundEvent.provider == provider, InboundEvent.provider_event_id.in_(wanted)
            )
        )
        .all()
    )
    return {event_id: inbox_id for event_id, inbox_id in rows}


def insert_delivery(session: Session, **values: Any) -> int:
    """Store a delivery as it arrived; its id. (A Core insert: the real-time path needs
    only the id, not an ORM object.)"""
    table: Table = InboundDelivery.__table__  # type: ignore[assignment]
    inserted = (
        session.connection()
        .execute(insert(table).values(**values).returning(table.c.id))
        .scalar_one()
    )
    return int(inserted)


def lock_event(session: Session, event_id: int) -> InboundEvent | None:
    """The event, row-locked so two workers never apply it at once."""
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def get_delivery(session: Session, delivery_id: int) -> InboundDelivery | None:
    return session.get(InboundDelivery, delivery_id)


def unapplied_ids(
    session: Session,
    statuses: Sequence[InboxStatus] = UNAPPLIED,
    *,
    provider: str | None = None,
    after_id: int = 0,
    limit: int = 500,
) -> list[int]:
    """Ids of events waiting to be applied, oldest first (keyset pagination by id)."""
    query = select(InboundEvent.id).where(
        InboundEvent.status.in_(statuses), InboundEvent.id > after_id
    )
    if provider:
        query = query.where(InboundEvent.provider == provider)
    return list(session.execute(query.order_by(InboundEvent.id).limit(limit)).scalars())


def replay_candidates(
    session: Session, *, received_before: datetime, max_attempts: int, limit: int
) -> list[tuple[int, InboxStatus, str | None]]:
    """Events the scheduler may apply on its own, oldest first: received before
    ``received_before`` and never applied, or parked after an error (``reason`` starting
    ``error:``) fewer than ``max_attempts`` times. (id, status, reason) each."""
    query = (
        select(InboundEvent.id, InboundEvent.status, InboundEvent.reason)
        .where(
            or_(
                and_(
                    InboundEvent.status == InboxStatus.RECEIVED,
                    InboundEvent.received_at <= received_before,
                ),
                and_(
                    InboundEvent.status == InboxStatus.PARKED,
                    InboundEvent.attempts < max_attempts,
                    InboundEvent.reason.like("error: %"),
                ),
            )
        )
        .order_by(InboundEvent.id)
        .limit(limit)
    )
    return [(i, status, reason) for i, status, reason in session.execute(query).all()]


def list_events(
    session: Session,
    *,
    statuses: Sequence[InboxStatus] | None = None,
    provider: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[InboundEvent]:
    """Events, newest first, optionally by status and provider (keyset by id)."""
    query = select(InboundEvent)
    if statuses:
        query = query.where(InboundEvent.status.in_(statuses))
    if provider:
        query = query.where(InboundEvent.provider == provider)
    if before_id is not None:
        query = query.where(InboundEvent.id < before_id)
    return list(session.execute(query.order_by(InboundEvent.id.desc()).limit(limit)).scalars())


def count_by_status(session: Session) -> dict[InboxStatus, int]:
    rows = session.execute(
        select(InboundEvent.status, func.count()).group_by(InboundEvent.status)
    ).all()
    return {status: count for status, count in rows}
