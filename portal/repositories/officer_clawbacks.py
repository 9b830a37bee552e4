"""Queries for clawback pages: the approvals queue, one proposal with its person, the
advocacy answer for a decision, and a proposal's audit history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Person, Plan
from monitoring.clawback import notice_key
from monitoring.models import (
    AdvocacyNeed,
    AuditEntry,
    ClawbackProposal,
    ClawbackStatus,
    Notification,
)


def decision_key(proposal_id: int) -> str:
    """How the advocacy record names a clawback's decision (``monitoring.clawback``)."""
    return f"clawback:{proposal_id}"


@dataclass(frozen=True)
class QueueRow:
    proposal: ClawbackProposal
    person_name: str
    council_reference: str
    advocacy: AdvocacyNeed | None


def queue(session: Session, statuses: Sequence[ClawbackStatus]) -> list[QueueRow]:
    """Live proposals in ``statuses`` with the person and the latest advocacy answer for
    each (three statements however long the queue)."""
    rows = session.execute(
        select(ClawbackProposal, Person.full_name, Person.council_reference)
        .join(Person, Person.id == ClawbackProposal.person_id)
        .where(ClawbackProposal.status.in_(statuses))
        .order_by(ClawbackProposal.proposed_at, ClawbackProposal.id)
    ).all()
    needs = latest_advocacy(session, [decision_key(r[0].id) for r in rows])
    return [QueueRow(r[0], r[1], r[2], needs.get(decision_key(r[0].id))) for r in rows]


def latest_advocacy(session: Session, decisions: Sequence[str]) -> dict[str, AdvocacyNeed]:
    """The latest advocacy answer for each decision that has one."""
    if not decisions:
        return {}
    found: dict[str, AdvocacyNeed] = {}
    for need in session.execute(
        select(AdvocacyNeed).where(AdvocacyNeed.decision.in_(decisions)).order_by(AdvocacyNeed.id)
    ).scalars():
        found[need.decision] = need
    return found


def get(session: Session, proposal_id: int) -> ClawbackProposal | None:
    return session.get(ClawbackProposal, proposal_id)


def plan_of_budget(session: Session, budget_account_id: int) -> Plan | None:
    """The budget's latest plan (what the surplus calculation is made for)."""
    return (
        session.execute(
            select(Plan)
            .where(Plan.budget_account_id == budget_account_id)
            .order_by(Plan.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def history(session: Session, proposal_id: int) -> Sequence[AuditEntry]:
    """Who did what to the proposal, oldest first."""
    return (
        session.execute(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "clawback", AuditEntry.subject_id == proposal_id)
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )


def notice_of(session: Session, proposal_id: int) -> Notification | None:
    """The holder's notice of the clawback in the outbox (queued, sent, only logged …)."""
    return session.execute(
        select(Notification).where(Notification.dedupe_key == notice_key(proposal_id))
    ).scalar_one_or_none()


def person_of(session: Session, proposal: ClawbackProposal) -> Person:
    person = session.get(Person, proposal.person_id)
    assert person is not None  # a foreign key
    return person
