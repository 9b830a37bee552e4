"""Rows the health and metrics tests set up: a scheduler lease, inbox events, monitor runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from adapters import inbox
from adapters.formats import RawEvent
from adapters.models import InboundEvent, InboxStatus
from monitoring.models import MonitorRun, SchedulerLease


def hold_lease(session: Session, holder: str, now: datetime, seconds: float = 30) -> None:
    """The lease as renewed by ``holder`` at ``now`` (the database's time, as the
    schedulers reckon it), lasting ``seconds`` from then."""
    session.merge(
        SchedulerLease(
            name="scheduler",
            holder=holder,
            term=3,
            acquired_at=now - timedelta(minutes=5),
            renewed_at=now,
            expires_at=now + timedelta(seconds=seconds),
        )
    )
    session.flush()


def receive_events(session: Session, now: datetime, ids: list[str]) -> list[int]:
    """Store provider events in the inbox, as a webhook delivery does (not applied)."""
    stored = inbox.store(
        session,
        provider="simulated",
        channel="webhook",
        body=b"{}",
        headers={},
        received_at=now,
        events=[
            RawEvent(provider_event_id=i, event_type="test.event", position=n, payload={})
            for n, i in enumerate(ids)
        ],
    )
    return [s.inbox_id for s in stored]


def park(session: Session, inbox_id: int) -> None:
    session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == inbox_id)
        .values(status=InboxStatus.PARKED, reason="test: could not be applied")
    )


def record_run(
    session: Session, monitor: str, started: datetime, seconds: float, flags: int = 0
) -> None:
    session.add(
        MonitorRun(
            monitor=monitor,
            runner="test",
            started_at=started,
            finished_at=started + timedelta(seconds=seconds),
            from_transfer_id=0,
            to_transfer_id=0,
            since=None,
            dry_run=False,
            hits=flags,
            flags_raised=flags,
            evidence_added=0,
            detail=None,
        )
    )
    session.flush()
