"""Queries on the notification outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Person
from monitoring.models import Notification, NotificationStatus

CHUNK = 500


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            session.execute(
                select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
            ).scalars()
        )
    return found


def emails_of(session: Session, person_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(person_ids)
    out: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Person.id, Person.email).where(
                Person.id.in_(ids[start : start + CHUNK]), Person.email.is_not(None)
            )
        ).all()
        out.update({pid: email for pid, email in rows if email is not None})
    return out


def due(session: Session, now: datetime | None, limit: int) -> Sequence[Notification]:
    """Pending messages due by ``now`` (all pending when None), oldest first; locked so
    two dispatchers never send the same one (PostgreSQL skips rows another has taken)."""
    query = select(Notification).where(Notification.status == NotificationStatus.PENDING)
    if now is not None:
        query = query.where(Notification.next_attempt_at <= now)
    query = query.order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)
    return session.execute(query).scalars().all()
