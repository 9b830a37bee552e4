"""Queries on statement imports, quarantined lines and reconciliation breaks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from adapters.models import QuarantinedLine, QuarantineStatus, StatementImport
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


def find_import(session: Session, import_id: int) -> StatementImport | None:
    return session.get(StatementImport, import_id)


def recent_imports(session: Session, limit: int = 50) -> list[StatementImport]:
    """Imports, the latest first."""
    return list(
        session.execute(
            select(StatementImport).order_by(StatementImport.id.desc()).limit(limit)
        ).scalars()
    )


def quarantined(
    session: Session,
    import_id: int,
    *,
    status: QuarantineStatus | None = None,
    after_line: int = 0,
    limit: int = 1000,
    lock: bool = False,
) -> list[QuarantinedLine]:
    """An import's quarantined lines in line order (only those with ``status``, after
    ``after_line``); with ``lock``, read afresh under the transaction's lock."""
    query = (
        select(QuarantinedLine)
        .where(
            QuarantinedLine.import_id == import_id,
            QuarantinedLine.line_number > after_line,
        )
        .order_by(QuarantinedLine.line_number)
        .limit(limit)
    )
    if status is not None:
        query = query.where(QuarantinedLine.status == status)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(session.execute(query).scalars())


def count_quarantined(session: Session, import_id: int) -> dict[QuarantineStatus, int]:
    """How many of an import's quarantined lines have each status."""
    rows = session.execute(
        select(QuarantinedLine.status, func.count())
        .where(QuarantinedLine.import_id == import_id)
        .group_by(QuarantinedLine.status)
    ).all()
    return {status: int(count) for status, count in rows}


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


def idempotency_keys_used(session: Session, source: str, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys a transfer or a card authorisation from ``source``
    already has, in two statements at most.

    On PostgreSQL each table is asked with ``key = ANY(array)``, so both columns of its
    unique index bound the scan: one probe a key, however many transfers the source has
    (an import's own keys fill the table as it goes, and its statistics lag; ``EXISTS``
    a key then became a hashed scan of every transfer of the source, batch after batch).
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return set()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Planned each time (never psycopg's prepared, generic plan): a plan made while
        # the table was nearly empty would scan it, however large it has grown since.
        driver = connection.connection.driver_connection
        used: set[str] = set()
        for table in ("transfers", "authorisations"):
            rows = driver.execute(  # type: ignore[union-attr]
                f"SELECT idempotency_key FROM {table} WHERE idempotency_source = %s "  # noqa: S608
                "AND idempotency_key = ANY(%s)",
                (source, wanted),
                prepare=False,
            )
            used.update(row[0] for row in rows)
        return used
    found: set[str] = set()
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        marks = ", ".join("?" * len(chunk))
        found.update(
            connection.exec_driver_sql(
                f"SELECT idempotency_key FROM transfers WHERE idempotency_source = ? "  # noqa: S608
                f"AND idempotency_key IN ({marks}) UNION SELECT idempotency_key FROM "
                f"authorisations WHERE idempotency_source = ? AND idempotency_key IN ({marks})",
                (source, *chunk, source, *chunk),
            ).scalars()
        )
    return found
