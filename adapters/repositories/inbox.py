"""Queries on the inbox: deliveries as they arrived and the events in them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from adapters import keys
from adapters.models import UNAPPLIED, InboundDelivery, InboundEvent, InboxStatus
from ledger import hot_sql


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


def insert_single_event_delivery(
    session: Session | Connection,
    *,
    delivery: dict[str, Any],
    event: dict[str, Any],
    commit_without_waiting: bool = False,
) -> int | None:
    """PostgreSQL: store a delivery of one event and its inbox row in one statement (one
    round trip), unless the event is already stored; the new inbox id, or None when the
    event was there already (this delivery then stores nothing, as ``inbox.store`` does).

    ``commit_without_waiting`` sets ``synchronous_commit`` off for this transaction in the
    same statement (``set_config(..., true)`` is ``SET LOCAL``; for a transaction that
    stores nothing it makes no difference). ``session`` may be a connection in autocommit.
    """
    params = {f"d_{name}": value for name, value in delivery.items()}
    params |= {f"e_{name}": value for name, value in event.items()}
    params["sync"] = "off" if commit_without_waiting else "on"
    found = hot_sql.run_first(session, _single_event_delivery(), params)
    return None if found is None else int(found[0])


_STATEMENTS: dict[str, Insert] = {}


def _single_event_delivery() -> Insert:
    """WITH delivery AS (INSERT INTO inbound_deliveries ... SELECT ... WHERE NOT EXISTS
    (the event)) INSERT INTO inbound_events ... SELECT ... FROM delivery ON CONFLICT DO
    NOTHING RETURNING id (built once; the values are bound parameters)."""
    built = _STATEMENTS.get("single_event_delivery")
    if built is not None:
        return built
    deliveries: Table = InboundDelivery.__table__  # type: ignore[assignment]
    events: Table = InboundEvent.__table__  # type: ignore[assignment]
    delivery_columns = ["provider", "channel", "body", "body_sha256", "headers", "received_at"]
    event_columns = [
        "position", "provider", "provider_event_id", "event_type", "received_at", "status",
        "attempts",
    ]  # fmt: skip
    known = (
        select(literal(1))
        .where(
            events.c.provider == bindparam("e_provider", type_=events.c.provider.type),
            events.c.provider_event_id
            == bindparam("e_provider_event_id", type_=events.c.provider_event_id.type),
        )
        .exists()
    )
    setting = func.set_config("synchronous_commit", bindparam("sync"), True)
    new_delivery = (
        insert(deliveries)
        .from_select(
            delivery_columns,
            select(
                *(
                    bindparam(f"d_{name}", type_=deliveries.c[name].type)
                    for name in delivery_columns
                )
            ).where(~known, setting.is_not(None)),
        )
        .returning(deliveries.c.id)
        .cte("new_delivery")
    )
    statement = (
        postgresql.insert(events)
        .from_select(
            ["delivery_id", *event_columns],
            select(
                new_delivery.c.id,
                *(bindparam(f"e_{name}", type_=events.c[name].type) for name in event_columns),
            ),
        )
        .on_conflict_do_nothing()
        .returning(events.c.id)
    )
    _STATEMENTS["single_event_delivery"] = statement
    return statement


def lock_event(session: Session, event_id: int) -> InboundEvent | None:
    """The event, row-locked so two workers never apply it at once."""
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


_EVENTS = cast(Table, InboundEvent.__table__)
_LOCK_EVENT_ROW = select(*_EVENTS.c).where(_EVENTS.c.id == bindparam("id")).with_for_update()
# The same, and (PostgreSQL) the transaction commits without waiting for the disk: the
# setting is made in the statement (``set_config(..., true)`` is ``SET LOCAL``), which
# saves a round trip of its own. A volatile function in the condition is evaluated for
# the row the index finds, never skipped by the planner.
_LOCK_EVENT_ROW_NOT_WAITING = (
    select(*_EVENTS.c)
    .where(
        _EVENTS.c.id == bindparam("id"),
        func.set_config("synchronous_commit", "off", True).is_not(None),
    )
    .with_for_update()
)
_RECORD_ATTEMPT = update(_EVENTS).where(_EVENTS.c.id == bindparam("event_id"))


def lock_event_row(
    session: Session, event_id: int, *, commit_without_waiting: bool = False
) -> Row[Any] | None:
    """The event's columns, row-locked so two workers never apply it at once (read past
    the ORM: ``record_attempt`` writes what changes). ``commit_without_waiting``: on
    PostgreSQL the transaction's commit does not wait for the disk (``SET LOCAL
    synchronous_commit TO OFF``, in the same statement); see ``adapters.inbox``."""
    statement: Select[Any] = _LOCK_EVENT_ROW
    if commit_without_waiting and session.get_bind().dialect.name == "postgresql":
        statement = _LOCK_EVENT_ROW_NOT_WAITING
    found: Row[Any] | None = hot_sql.run_first(session, statement, {"id": event_id})
    return found


def record_attempt(session: Session, event_id: int, **values: Any) -> None:
    """Write what an attempt to apply the event changed (a Core update). An ORM object
    of the event that this session holds is expired, so it is read afresh."""
    # The columns set are the parameters' names (all but ``event_id``).
    hot_sql.run(session, _RECORD_ATTEMPT, {"event_id": event_id, **values})
    loaded = session.identity_map.get(session.identity_key(InboundEvent, event_id))
    if loaded is not None:
        session.expire(loaded)


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
    session: Session,
    *,
    received_before: datetime,
    max_attempts: int,
    limit: int,
    reason_prefixes: Sequence[str] = ("error: ",),
) -> list[tuple[int, InboxStatus, str | None]]:
    """Events the scheduler may apply on its own, oldest first: received before
    ``received_before`` and never applied, or parked with a reason starting with one of
    ``reason_prefixes`` (an error) fewer than ``max_attempts`` times. (id, status,
    reason) each."""
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
                    or_(
                        *(
                            InboundEvent.reason.startswith(prefix, autoescape=True)
                            for prefix in reason_prefixes
                        )
                    ),
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
