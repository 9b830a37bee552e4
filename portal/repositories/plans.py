"""Queries on plans and on what was spent and paid in against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from ledger.models import Account, AccountKind, Plan, PlanStatus, Transfer, TransferCode
from ledger.repositories.transfers import POSTED_PHASES

# Money leaving a budget to pay for care and support (not fees, pots or recoveries).
SPEND_CODES = (
    TransferCode.CARD_SPEND,
    TransferCode.CASH_WITHDRAWAL,
    TransferCode.DIRECT_DEBIT,
    TransferCode.STANDING_ORDER,
    TransferCode.FASTER_PAYMENT,
)
# Money coming back for spend: refunds, and reversals of a payment to someone.
RETURN_CODES = (TransferCode.REFUND, TransferCode.REVERSAL)


def active_plan(session: Session, budget_account_id: int, *, lines: bool = True) -> Plan | None:
    """The active plan funding the budget (the latest, if more than one), with its lines
    read too unless ``lines`` is false (a page that shows only the plan's dates and budget
    saves a statement)."""
    query = (
        select(Plan)
        .where(Plan.budget_account_id == budget_account_id, Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.starts_on.desc(), Plan.id.desc())
        .limit(1)
    )
    if lines:
        query = query.options(selectinload(Plan.lines))
    return session.execute(query).scalars().first()


def budget_family(session: Session, budget_account_id: int) -> list[int]:
    """The budget and the accounts that hold its money: its companion pots and arrears."""
    children = session.execute(
        select(Account.id).where(
            Account.parent_id == budget_account_id,
            Account.kind.in_((AccountKind.COMPANION_POT, AccountKind.ARREARS)),
        )
    ).scalars()
    return [budget_account_id, *children]


@dataclass(frozen=True)
class SpendGroup:
    """Spend that looks alike (same code, category, MCC and payee), summed."""

    code: TransferCode
    category: str | None
    mcc: str | None
    payee: str | None
    spent: int  # money out minus money back, in pence


def spend_groups(
    session: Session, account_ids: list[int], start: datetime, end: datetime
) -> list[SpendGroup]:
    """Posted spend from the accounts with effect in [start, end), grouped and summed.
    Refunds and reversals of payments count against the spend they undo."""
    out = _grouped(session, Transfer.debit_account_id, account_ids, SPEND_CODES, start, end)
    back = _grouped(session, Transfer.credit_account_id, account_ids, RETURN_CODES, start, end)
    groups: dict[tuple[str | None, str | None, str | None, bool], int] = {}
    codes: dict[tuple[str | None, str | None, str | None, bool], TransferCode] = {}
    for code, category, mcc, payee, total in out:
        key = (category, mcc, payee, code is TransferCode.CASH_WITHDRAWAL)
        groups[key] = groups.get(key, 0) + total
        codes[key] = code
    for code, category, mcc, payee, total in back:
        if code is TransferCode.REVERSAL and mcc is None and payee is None:
            continue  # a reversal of something that was not spend (a load, a fee)
        key = (category, mcc, payee, False)
        groups[key] = groups.get(key, 0) - total
        codes.setdefault(key, code)
    return [SpendGroup(codes[key], key[0], key[1], key[2], spent) for key, spent in groups.items()]


def _grouped(
    session: Session,
    side: InstrumentedAttribute[int],
    account_ids: list[int],
    codes: tuple[TransferCode, ...],
    start: datetime,
    end: datetime,
) -> list[tuple[TransferCode, str | None, str | None, str | None, int]]:
    payee = func.coalesce(Transfer.payee, Transfer.merchant_name)
    rows = session.execute(
        select(Transfer.code, Transfer.category, Transfer.mcc, payee, func.sum(Transfer.amount))
        .where(
            side.in_(account_ids),
            Transfer.code.in_(codes),
            Transfer.phase.in_(POSTED_PHASES),
            Transfer.effective_at >= start,
            Transfer.effective_at < end,
        )
        .group_by(Transfer.code, Transfer.category, Transfer.mcc, payee)
    ).all()
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


def contributions_by_period(
    session: Session, budget_account_id: int, bounds: list[tuple[datetime, datetime]]
) -> list[int]:
    """Contributions paid in each of the periods, in one query."""
    if not bounds:
        return []
    rows = session.execute(
        select(Transfer.effective_at, Transfer.amount).where(
            Transfer.credit_account_id == budget_account_id,
            Transfer.code == TransferCode.CONTRIBUTION,
            Transfer.phase.in_(POSTED_PHASES),
            Transfer.effective_at >= bounds[0][0],
            Transfer.effective_at < bounds[-1][1],
        )
    ).all()
    paid = [0] * len(bounds)
    for at, amount in rows:
        for i, (start, end) in enumerate(bounds):
            if start <= at < end:
                paid[i] += amount
                break
    return paid
