"""The provider inbox as officers see it: events that could not be applied (parked), or
every recent event, newest first, paged by id; and one event with the payload the
provider sent, read back from the stored delivery exactly as it arrived."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.errors import MalformedPayload
from adapters.formats import format_for, parse_json
from adapters.models import UNAPPLIED, InboundDelivery, InboundEvent, InboxStatus
from ledger.errors import DomainError


@dataclass(frozen=True)
class InboxPage:
    events: list[InboundEvent]
    newer_after: int | None
    older_before: int | None


def inbox_page(
    session: Session,
    statuses: Sequence[InboxStatus] | None,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> InboxPage:
    """Events with one of ``statuses`` (None: any), newest first, through the
    (status, id) index: the newest page, the page older than ``before`` or the page
    newer than ``after``."""
    conditions: list[Any] = []
    if statuses is not None:
        conditions.append(InboundEvent.status.in_(statuses))
    query = select(InboundEvent).where(*conditions)
    if after is not None:
        found = list(
            session.execute(
                query.where(InboundEvent.id > after).order_by(InboundEvent.id).limit(size + 1)
            ).scalars()
        )
        has_newer, found = len(found) > size, list(reversed(found[:size]))
        has_older = _any(session, conditions, InboundEvent.id <= after)
    else:
        if before is not None:
            query = query.where(InboundEvent.id < before)
        found = list(
            session.execute(query.order_by(InboundEvent.id.desc()).limit(size + 1)).scalars()
        )
        has_older, found = len(found) > size, found[:size]
        has_newer = before is not None and _any(session, conditions, InboundEvent.id >= before)
    return InboxPage(
        events=found,
        newer_after=found[0].id if found and has_newer else None,
        older_before=found[-1].id if found and has_older else None,
    )


def _any(session: Session, conditions: list[Any], extra: Any) -> bool:
    found = session.execute(select(InboundEvent.id).where(*conditions, extra).limit(1)).first()
    return found is not None


def waiting_counts(session: Session) -> dict[InboxStatus, int]:
    """How many events are parked and how many received but not applied (through the
    (status, id) index: cheap however many applied events there are)."""
    rows = session.execute(
        select(InboundEvent.status, func.count())
        .where(InboundEvent.status.in_(UNAPPLIED))
        .group_by(InboundEvent.status)
    ).all()
    counts = {status: 0 for status in UNAPPLIED}
    counts.update({status: count for status, count in rows})
    return counts


@dataclass(frozen=True)
class StoredPayload:
    """What the provider sent for one event: its own payload when the delivery can be
    read as the provider's format, else the delivery's body as it arrived."""

    channel: str
    delivery_id: int
    body_sha256: str
    events_in_delivery: int | None
    payload: Any | None  # the event's JSON (numbers exact, as Decimal)
    raw_text: str | None  # when it is not JSON at all


def get_event(session: Session, event_id: int) -> InboundEvent | None:
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.id == event_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def stored_payload(session: Session, event: InboundEvent) -> StoredPayload | None:
    delivery = session.get(InboundDelivery, event.delivery_id)
    if delivery is None:
        return None
    body = bytes(delivery.body)
    try:
        events = format_for(event.provider, delivery.channel).split(body, delivery.channel)
    except DomainError:
        events = []
    for raw in events:
        if raw.position == event.position and raw.provider_event_id[:200] == (
            event.provider_event_id
        ):
            return StoredPayload(
                delivery.channel,
                delivery.id,
                delivery.body_sha256,
                len(events),
                dict(raw.payload),
                None,
            )
    try:
        whole: Any | None = parse_json(body)
        text = None
    except MalformedPayload:
        whole, text = None, body.decode("utf-8", errors="replace")
    return StoredPayload(delivery.channel, delivery.id, delivery.body_sha256, None, whole, text)
