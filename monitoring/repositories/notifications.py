"""Queries on the notification outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from ledger.models import Person
from monitoring.models import ClawbackProposal, ClawbackStatus, Notification, NotificationStatus

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


def sent_at(session: Session, dedupe_key: str) -> datetime | None:
    """When the message with this key was sent by email (None if not, or only logged)."""
    return session.execute(
        select(Notification.sent_at).where(
            Notification.dedupe_key == dedupe_key, Notification.status == NotificationStatus.SENT
        )
    ).scalar_one_or_none()


def approved_clawbacks_with_sent_notice(session: Session) -> Sequence[ClawbackProposal]:
    """Approved clawbacks whose holder's notice has been emailed since (the window is not
    yet open)."""
    key = literal("clawback-notice|") + cast(ClawbackProposal.id, String)
    return (
        session.execute(
            select(ClawbackProposal)
            .join(Notification, Notification.dedupe_key == key)
            .where(
                ClawbackProposal.status == ClawbackStatus.APPROVED,
                Notification.status == NotificationStatus.SENT,
            )
            .order_by(ClawbackProposal.id)
            .with_for_update(of=ClawbackProposal)
        )
        .scalars()
        .all()
    )
