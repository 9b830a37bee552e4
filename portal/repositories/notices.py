"""Notices from the council to a holder: the messages monitoring wrote to its outbox for
that person (``notifications`` with audience "holder"), and, for a notice of a
proposed recovery (cause ``clawback:<id>``), the clawback it is about.

Every query is by the viewer's own person: a notice to someone else is not found. A
companion is a person of their own, so the budget owner's notices never reach them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitoring.models import ClawbackProposal, ClawbackStatus, Notification

HOLDER = "holder"
_CLAWBACK = "clawback:"
NOTICES_SHOWN = 100


@dataclass(frozen=True)
class Recovery:
    """The clawback a notice is about, as it stands now."""

    proposal_id: int
    amount: int
    status: ClawbackStatus
    respond_by: date | None
    response: str | None
    executed_at: datetime | None


@dataclass(frozen=True)
class Notice:
    notice_id: int
    subject: str
    body: str
    sent_at: datetime
    recovery: Recovery | None


def clawback_id(cause: str) -> int | None:
    """The clawback a notice's cause names, if it names one."""
    if not cause.startswith(_CLAWBACK):
        return None
    rest = cause[len(_CLAWBACK) :]
    return int(rest) if rest.isdigit() and len(rest) < 19 else None


def notices_for_person(session: Session, person_id: int) -> list[Notice]:
    """The person's notices, newest first (the newest ``NOTICES_SHOWN``)."""
    rows = list(
        session.execute(
            select(Notification)
            .where(Notification.person_id == person_id, Notification.audience == HOLDER)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(NOTICES_SHOWN)
        ).scalars()
    )
    recoveries = _recoveries(session, person_id, (clawback_id(r.cause) for r in rows))
    return [_notice(row, recoveries) for row in rows]


def notice_for_person(session: Session, person_id: int, notice_id: int) -> Notice | None:
    row = session.execute(
        select(Notification).where(
            Notification.id == notice_id,
            Notification.person_id == person_id,
            Notification.audience == HOLDER,
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return _notice(row, _recoveries(session, person_id, [clawback_id(row.cause)]))


def lock_recovery(session: Session, person_id: int, proposal_id: int) -> Recovery | None:
    """The person's clawback, row-locked (read afresh) so two replies cannot both see
    it unanswered."""
    proposal = session.execute(
        select(ClawbackProposal)
        .where(ClawbackProposal.id == proposal_id, ClawbackProposal.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return _recovery(proposal) if proposal is not None else None


def _recoveries(session: Session, person_id: int, ids: Iterable[int | None]) -> dict[int, Recovery]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    proposals = session.execute(
        select(ClawbackProposal).where(
            ClawbackProposal.id.in_(wanted), ClawbackProposal.person_id == person_id
        )
    ).scalars()
    return {p.id: _recovery(p) for p in proposals}


def _recovery(p: ClawbackProposal) -> Recovery:
    return Recovery(p.id, p.amount, p.status, p.respond_by, p.holder_response, p.executed_at)


def _notice(row: Notification, recoveries: dict[int, Recovery]) -> Notice:
    proposal_id = clawback_id(row.cause)
    return Notice(
        notice_id=row.id,
        subject=row.subject,
        body=row.body,
        sent_at=row.created_at,
        recovery=recoveries.get(proposal_id) if proposal_id is not None else None,
    )
