"""Queries on statement imports, quarantined lines and reconciliation breaks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from adapters.models import QuarantinedLine, StatementImport
from ledger.models import ReconciliationBreak


def import_by_digest(
    session: Session, digest: str, *, lock: bool = False
) -> StatementImport | None:
    """The import of the file with this SHA-256; with ``lock``, its row locked for the
    transaction (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds
    the whole database)."""
    query = select(StatementImport).where(StatementImport.file_sha256 == digest)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def lock_import(session: Session, import_id: int) -> StatementImport:
    """The import's row, locked for the transaction, read afresh."""
    return session.execute(
        select(StatementImport)
        .where(StatementImport.id == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def quarantined(session: Session, import_id: int, limit: int = 1000) -> list[QuarantinedLine]:
    return list(
        session.execute(
            select(QuarantinedLine)
            .where(QuarantinedLine.import_id == import_id)
            .order_by(QuarantinedLine.line_number)
            .limit(limit)
        ).scalars()
    )


def quarantined_line_numbers(session: Session, import_id: int) -> set[int]:
    return set(
        session.execute(
            select(QuarantinedLine.line_number).where(QuarantinedLine.import_id == import_id)
        ).scalars()
    )


def find_break(
    session: Session, source: str, card_id: int, as_of: date
) -> ReconciliationBreak | None:
    return session.execute(
        select(ReconciliationBreak).where(
            ReconciliationBreak.source == source,
            ReconciliationBreak.card_id == card_id,
            ReconciliationBreak.as_of == as_of,
        )
    ).scalar_one_or_none()


def cards_with_breaks(
    session: Session, source: str, card_ids: Sequence[int], as_of: date
) -> set[int]:
    """Which of these cards already have a break from ``source`` for the day ``as_of``."""
    wanted = sorted(set(card_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.execute(
                select(ReconciliationBreak.card_id).where(
                    ReconciliationBreak.source == source,
                    ReconciliationBreak.card_id.in_(wanted[start : start + 500]),
                    ReconciliationBreak.as_of == as_of,
                )
            ).scalars()
        )
    return found


def record_breaks(session: Session, breaks: Sequence[dict[str, Any]]) -> None:
    """Insert reconciliation breaks (column values) in one statement: no ORM objects, of
    which a statement's closing balances can make thousands."""
    if breaks:
        table: Table = ReconciliationBreak.__table__  # type: ignore[assignment]
        session.execute(insert(table), list(breaks))
