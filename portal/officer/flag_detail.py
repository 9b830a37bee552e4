"""What a flag's page shows, read in one call: the flag and the monitor that raised it,
its latest evidence in plain words (figures, the payments and plan line it names), the
plan of the budget it concerns with that budget's balance over the last weeks, its notes
and history, and whether it went to safeguarding.

Opening a flag about a person logs a view of their record (who, whom, when, which page),
in the same transaction, as every officer page that shows part of a record does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from adapters import mcc as mcc_table
from ledger.clock import Clock
from ledger.models import Account, Person, Plan, PlanCategory, PlanLine, Transfer
from ledger.repositories.cards import CardBalanceRow
from ledger.service import Ledger
from monitoring.dates import start_of_day, today
from monitoring.mcc import category_of
from monitoring.models import Flag, FlagEvidence, FlagHistory, FlagNote
from portal.holder.plan_summary import CATEGORY_LABELS
from portal.models import User
from portal.officer.balance_chart import BalanceChart, balance_chart
from portal.officer.flag_words import Figure, figures_of, monitor_title
from portal.officer.records import open_person
from portal.repositories import flag_records, officer_records
from portal.repositories import plans as plans_repo
from portal.repositories.flag_records import Escalation

EVIDENCE_SHOWN = 20
HISTORY_SHOWN = 100
NOTES_SHOWN = 100
CHART_WEEKS = 12


@dataclass(frozen=True)
class EvidencePayment:
    transfer_id: int
    effective_at: datetime
    what: str
    description: str
    mcc: str
    category: str
    amount: int


@dataclass(frozen=True)
class EvidenceItem:
    evidence: FlagEvidence
    figures: list[Figure]
    payments: list[EvidencePayment]
    plan_line: PlanLine | None
    payments_missing: int  # transfer ids named that the ledger no longer finds


@dataclass(frozen=True)
class FlagPage:
    flag: Flag
    monitor_title: str
    person: Person | None
    cards: list[CardBalanceRow]  # the person's
    evidence: list[EvidenceItem]
    evidence_total: int
    budget: Account | None
    plan: Plan | None
    chart: BalanceChart | None
    history: list[FlagHistory]
    history_total: int
    notes: list[FlagNote]
    escalations: list[Escalation]


def flag_page(
    session: Session, clock: Clock, viewer: User, flag_id: int, page: str
) -> FlagPage | None:
    """Everything the flag's page shows, with the view of the person's record logged;
    None (nothing logged) when there is no such flag."""
    flag = flag_records.get(session, flag_id)
    if flag is None:
        return None
    person = None
    if flag.person_id is not None:
        person = open_person(session, clock, viewer, flag.person_id, page)
    evidence, evidence_total = flag_records.latest_evidence(session, flag.id, EVIDENCE_SHOWN)
    history, history_total = flag_records.latest_history(session, flag.id, HISTORY_SHOWN)
    budget = flag_records.budget_account_of(session, flag)
    plan = plans_repo.active_plan(session, budget.id) if budget is not None else None
    return FlagPage(
        flag=flag,
        monitor_title=monitor_title(flag.monitor),
        person=person,
        cards=officer_records.cards_of_person(session, person.id) if person else [],
        evidence=_evidence_items(session, evidence),
        evidence_total=evidence_total,
        budget=budget,
        plan=plan,
        chart=_chart(session, clock, budget) if budget is not None else None,
        history=history,
        history_total=history_total,
        notes=flag_records.notes(session, flag.id, NOTES_SHOWN),
        escalations=flag_records.escalations(session, flag.id),
    )


def _evidence_items(session: Session, evidence: list[FlagEvidence]) -> list[EvidenceItem]:
    transfers = flag_records.transfers(session, {i for e in evidence for i in e.transfer_ids})
    lines = flag_records.plan_lines(
        session, {e.plan_line_id for e in evidence if e.plan_line_id is not None}
    )
    items = []
    for e in evidence:
        found = [transfers[i] for i in e.transfer_ids if i in transfers]
        items.append(
            EvidenceItem(
                evidence=e,
                figures=figures_of(e.figures),
                payments=[_payment(t) for t in sorted(found, key=lambda t: t.id)],
                plan_line=lines.get(e.plan_line_id) if e.plan_line_id is not None else None,
                payments_missing=len(e.transfer_ids) - len(found),
            )
        )
    return items


def _payment(t: Transfer) -> EvidencePayment:
    described = mcc_table.describe(t.mcc) if t.mcc else None
    category = category_of(t.mcc, t.category)
    return EvidencePayment(
        transfer_id=t.id,
        effective_at=t.effective_at,
        what=t.code.value.replace("_", " ").capitalize(),
        description=t.merchant_name or t.payee or t.reference or "",
        mcc=f"{t.mcc} {described.description}" if described else (t.mcc or ""),
        category=category_label(category),
        amount=t.amount,
    )


def category_label(category: str | None) -> str:
    """What spending is for, in the plan's words ("Care from an agency")."""
    if category is None:
        return "Not known"
    try:
        return CATEGORY_LABELS[PlanCategory(category)]
    except (ValueError, KeyError):
        return category.replace("_", " ").capitalize()


def _chart(session: Session, clock: Clock, budget: Account) -> BalanceChart:
    end = today(clock)
    start = end - timedelta(weeks=CHART_WEEKS) + timedelta(days=1)
    statement = Ledger(session, clock).statement(
        budget.id, start_of_day(start), start_of_day(end + timedelta(days=1))
    )
    return balance_chart(statement, start, end)
