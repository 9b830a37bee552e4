"""Queries on flags and their evidence."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from monitoring.models import (
    Disposition,
    Flag,
    FlagEvidence,
    FlagHistory,
    FlagStatus,
    Severity,
)

CHUNK = 500  # values in one IN list (SQLite)
ARRAY_CHUNK = 10_000  # values in one array parameter (PostgreSQL)


def get(session: Session, flag_id: int, *, lock: bool = False) -> Flag:
    query = select(Flag).where(Flag.id == flag_id)
    if lock:
        query = query.with_for_update()
    flag = session.execute(query).scalar_one_or_none()
    if flag is None:
        raise UnknownRecord(f"flag {flag_id} does not exist", flag_id=flag_id)
    return flag


def existing_evidence_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for matching in _one_of(session, FlagEvidence.dedupe_key, keys):
        found.update(session.execute(select(FlagEvidence.dedupe_key).where(matching)).scalars())
    return found


def open_flags_by_key(session: Session, open_keys: Sequence[str]) -> dict[str, Flag]:
    found: dict[str, Flag] = {}
    for matching in _one_of(session, Flag.open_key, open_keys):
        for flag in session.execute(select(Flag).where(matching)).scalars():
            assert flag.open_key is not None
            found[flag.open_key] = flag
    return found


def open_flag_ids(session: Session, open_keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for matching in _one_of(session, Flag.open_key, open_keys):
        rows = session.execute(select(Flag.open_key, Flag.id).where(matching)).all()
        found.update({key: flag_id for key, flag_id in rows if key is not None})
    return found


def _one_of(session: Session, column: Any, values: Sequence[str]) -> Iterator[Any]:
    """``column`` is one of ``values``, as a condition per chunk of them. PostgreSQL
    takes a chunk as one array parameter (``= ANY``): a flag wave's 93,000 keys are ten
    statements, each compiled and planned once, not 190 lists of 500 parameters."""
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(values), ARRAY_CHUNK):
            chunk = list(values[start : start + ARRAY_CHUNK])
            yield column == any_(bindparam("values", chunk, type_=ARRAY(String)))
        return
    for start in range(0, len(values), CHUNK):
        yield column.in_(values[start : start + CHUNK])


def queue(session: Session, now: datetime, *, include_snoozed: bool = False) -> Sequence[Flag]:
    """Open flags, most severe and most overdue first; snoozed ones hidden until due."""
    query = select(Flag).where(Flag.status.in_([FlagStatus.OPEN, FlagStatus.IN_REVIEW]))
    if not include_snoozed:
        query = query.where(or_(Flag.snoozed_until.is_(None), Flag.snoozed_until <= now))
    rank = case({s.value: s.rank for s in Severity}, value=Flag.severity, else_=0)
    return session.execute(query.order_by(rank.desc(), Flag.sla_due_at, Flag.id)).scalars().all()


def evidence_of(session: Session, flag_id: int) -> Sequence[FlagEvidence]:
    return (
        session.execute(
            select(FlagEvidence).where(FlagEvidence.flag_id == flag_id).order_by(FlagEvidence.id)
        )
        .scalars()
        .all()
    )


def history_of(session: Session, flag_id: int) -> Sequence[FlagHistory]:
    return (
        session.execute(
            select(FlagHistory).where(FlagHistory.flag_id == flag_id).order_by(FlagHistory.id)
        )
        .scalars()
        .all()
    )


def dispositions_by_monitor(
    session: Session,
    *,
    closed_from: datetime | None = None,
    closed_before: datetime | None = None,
) -> list[tuple[str, Disposition | None, int]]:
    """Closed flags counted by monitor and disposition, optionally only those closed
    at or after ``closed_from`` and before ``closed_before``."""
    query = select(Flag.monitor, Flag.disposition, func.count()).where(
        Flag.disposition.is_not(None)
    )
    if closed_from is not None:
        query = query.where(Flag.closed_at >= closed_from)
    if closed_before is not None:
        query = query.where(Flag.closed_at < closed_before)
    rows = session.execute(query.group_by(Flag.monitor, Flag.disposition)).all()
    return [(monitor, disposition, count) for monitor, disposition, count in rows]


def open_flags_of(session: Session, monitor: str | None = None) -> Sequence[Flag]:
    query = select(Flag).where(Flag.open_key.is_not(None))
    if monitor is not None:
        query = query.where(Flag.monitor == monitor)
    return session.execute(query.order_by(Flag.id)).scalars().all()
