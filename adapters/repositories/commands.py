"""Queries on outbound card commands."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.models import CardCommandRecord, CommandStatus


def by_key(session: Session, key: str, *, lock: bool = False) -> CardCommandRecord | None:
    query = select(CardCommandRecord).where(CardCommandRecord.idempotency_key == key)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def sent_for_card(
    session: Session, card_id: int, command: str, key: str
) -> CardCommandRecord | None:
    """Our command of this kind for this card under ``key`` (a provider event echoing it).

    Asked first through the connection (not the ORM), so a statement full of loads does
    not make a deferred batch of postings write early; the record is loaded only if found.
    """
    found = (
        session.connection()
        .execute(
            select(CardCommandRecord.id).where(
                CardCommandRecord.card_id == card_id,
                CardCommandRecord.command == command,
                CardCommandRecord.idempotency_key == key,
            )
        )
        .scalar()
    )
    return None if found is None else session.get(CardCommandRecord, found)


def sent_among(
    session: Session, wanted: Iterable[tuple[int, str, str]]
) -> set[tuple[int, str, str]]:
    """Which of these (card id, command, key) are commands we sent, in a few statements
    for any number (through the connection, like ``sent_for_card``)."""
    wanted = set(wanted)
    keys = sorted({key for _, _, key in wanted})
    found: set[tuple[int, str, str]] = set()
    connection = session.connection()
    for start in range(0, len(keys), 500):
        rows = connection.execute(
            select(
                CardCommandRecord.card_id,
                CardCommandRecord.command,
                CardCommandRecord.idempotency_key,
            ).where(CardCommandRecord.idempotency_key.in_(keys[start : start + 500]))
        )
        found.update((int(c), str(command), str(key)) for c, command, key in rows)
    return found & wanted


def unfinished(session: Session, limit: int = 100) -> list[CardCommandRecord]:
    """Commands still pending or failed, oldest first."""
    return list(
        session.execute(
            select(CardCommandRecord)
            .where(CardCommandRecord.status.in_((CommandStatus.PENDING, CommandStatus.FAILED)))
            .order_by(CardCommandRecord.id)
            .limit(limit)
        ).scalars()
    )
