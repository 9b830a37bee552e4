"""Queries for a flag's page: the flag, its latest evidence with the payments and plan
lines it names, its history and notes, the budget it concerns, and whether it went to
safeguarding (never what the concern says: that record is restricted).

Each is one statement (or two, with a count) whatever the flag holds; evidence and
history are long-lived and only the latest are read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Account, AccountKind, Card, CompanionPot, Plan, PlanLine, Transfer
from monitoring.models import Flag, FlagEvidence, FlagHistory, FlagNote, SafeguardingRecord


def get(session: Session, flag_id: int) -> Flag | None:
    return session.get(Flag, flag_id)


def latest_evidence(session: Session, flag_id: int, limit: int) -> tuple[list[FlagEvidence], int]:
    """The newest ``limit`` pieces of evidence, newest first, and how many there are."""
    found = session.execute(
        select(FlagEvidence)
        .where(FlagEvidence.flag_id == flag_id)
        .order_by(FlagEvidence.id.desc())
        .limit(limit)
    ).scalars()
    total = session.execute(
        select(func.count()).select_from(FlagEvidence).where(FlagEvidence.flag_id == flag_id)
    ).scalar_one()
    return list(found), int(total)


def latest_history(session: Session, flag_id: int, limit: int) -> tuple[list[FlagHistory], int]:
    """The newest ``limit`` history entries, newest first, and how many there are."""
    found = session.execute(
        select(FlagHistory)
        .where(FlagHistory.flag_id == flag_id)
        .order_by(FlagHistory.id.desc())
        .limit(limit)
    ).scalars()
    total = session.execute(
        select(func.count()).select_from(FlagHistory).where(FlagHistory.flag_id == flag_id)
    ).scalar_one()
    return list(found), int(total)


def notes(session: Session, flag_id: int, limit: int) -> list[FlagNote]:
    """The newest ``limit`` notes, newest first."""
    return list(
        session.execute(
            select(FlagNote)
            .where(FlagNote.flag_id == flag_id)
            .order_by(FlagNote.id.desc())
            .limit(limit)
        ).scalars()
    )


def transfers(session: Session, ids: Collection[int]) -> dict[int, Transfer]:
    if not ids:
        return {}
    found = session.execute(select(Transfer).where(Transfer.id.in_(sorted(ids)))).scalars()
    return {t.id: t for t in found}


def plan_lines(session: Session, ids: Collection[int]) -> dict[int, PlanLine]:
    if not ids:
        return {}
    found = session.execute(select(PlanLine).where(PlanLine.id.in_(sorted(ids)))).scalars()
    return {line.id: line for line in found}


@dataclass(frozen=True)
class Escalation:
    """That a flag went to safeguarding: which record, who, when. Not the concern."""

    record_id: int
    raised_by: str
    raised_at: datetime


def escalations(session: Session, flag_id: int) -> list[Escalation]:
    rows = session.execute(
        select(
            SafeguardingRecord.id.label("record_id"),
            SafeguardingRecord.raised_by,
            SafeguardingRecord.raised_at,
        )
        .where(SafeguardingRecord.flag_id == flag_id)
        .order_by(SafeguardingRecord.id)
    ).all()
    return [Escalation(**row._asdict()) for row in rows]


def budget_account_of(session: Session, flag: Flag) -> Account | None:
    """The personal budget the flag concerns: the budget a card draws on (through its pot
    for a companion card), a plan's or plan line's budget, the budget an arrears account
    or pot belongs to; else the person's first personal budget."""
    account_id: int | None = None
    if flag.subject_type == "card":
        card = session.get(Card, flag.subject_id)
        if card is not None and card.pot_id is not None:
            pot = session.get(CompanionPot, card.pot_id)
            account_id = pot.budget_account_id if pot is not None else None
        elif card is not None:
            account_id = card.account_id
    elif flag.subject_type in ("plan", "plan_line"):
        plan_id = flag.subject_id
        if flag.subject_type == "plan_line":
            line = session.get(PlanLine, flag.subject_id)
            plan_id = line.plan_id if line is not None else 0
        plan = session.get(Plan, plan_id)
        account_id = plan.budget_account_id if plan is not None else None
    elif flag.subject_type == "account":
        account = session.get(Account, flag.subject_id)
        if account is not None:
            is_budget = account.kind is AccountKind.PERSONAL_BUDGET
            account_id = account.id if is_budget else account.parent_id
    budget = session.get(Account, account_id) if account_id is not None else None
    if budget is not None and budget.kind is AccountKind.PERSONAL_BUDGET:
        return budget
    if flag.person_id is None:
        return None
    return (
        session.execute(
            select(Account)
            .where(
                Account.owner_id == flag.person_id,
                Account.kind == AccountKind.PERSONAL_BUDGET,
            )
            .order_by(Account.id)
            .limit(1)
        )
        .scalars()
        .first()
    )
