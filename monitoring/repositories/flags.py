"""Queries on flags and their evidence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select
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

CHUNK = 500


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
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.execute(
                select(FlagEvidence.dedupe_key).where(
                    FlagEvidence.dedupe_key.in_(keys[start : start + CHUNK])
                )
            ).scalars()
        )
    return found


def open_flags_by_key(session: Session, open_keys: Sequence[str]) -> dict[str, Flag]:
    found: dict[str, Flag] = {}
    for start in range(0, len(open_keys), CHUNK):
        for flag in session.execute(
            select(Flag).where(Flag.open_key.in_(open_keys[start : start + CHUNK]))
        ).scalars():
            assert flag.open_key is not None
            found[flag.open_key] = flag
    return found


def open_flag_ids(session: Session, open_keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(open_keys), CHUNK):
        rows = session.execute(
            select(Flag.open_key, Flag.id).where(
                Flag.open_key.in_(open_keys[start : start + CHUNK])
            )
        ).all()
        found.update({key: flag_id for key, flag_id in rows if key is not None})
    return found


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
