"""Spend as monitors see it: each posted transfer joined, in SQL, to the active plan of
the budget it was paid from (through a companion pot or the arrears account too), its
plan period, what it was for (the MCC map) and the plan line that covers it.

Also the period totals: per plan period and per plan-line period, kept by adding each
new transfer once, by one INSERT … SELECT … ON CONFLICT DO UPDATE per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement

from ledger.models import (
    Account,
    AccountKind,
    Phase,
    Plan,
    PlanLine,
    PlanStatus,
    Transfer,
    TransferCode,
)
from monitoring import mcc
from monitoring.models import LinePeriodTotal, UnplannedSpend
from monitoring.repositories.sql import london_date, period_index
from monitoring.repositories.sql import total as sum_of

POSTED_PHASES = (Phase.POSTED, Phase.POST_PENDING)
SPEND_CODES = (
    TransferCode.CARD_SPEND,
    TransferCode.CASH_WITHDRAWAL,
    TransferCode.DIRECT_DEBIT,
    TransferCode.STANDING_ORDER,
    TransferCode.FASTER_PAYMENT,
)
CASH_MCCS = ("6010", "6011")


def budget_of(payer: Any) -> ColumnElement[int]:
    """The personal budget an account belongs to: itself, or the parent of a companion
    pot or an arrears account."""
    return func.coalesce(payer.parent_id, payer.id)


@dataclass(frozen=True)
class Window:
    """Which transfers a run looks at: those new since the watermark ``lo`` (up to
    ``hi``), or, with ``since``, every transfer effective from then up to ``hi``."""

    lo: int
    hi: int
    since: datetime | None = None

    def clauses(self, t: Any) -> list[ColumnElement[bool]]:
        if self.since is not None:
            return [t.effective_at >= self.since, t.id <= self.hi]
        return [t.id > self.lo, t.id <= self.hi]


def attributed_spend(window: Window) -> Subquery:
    """Posted spend (card, cash, bank payments) in the window, one row per transfer, with
    its plan, London date, period and spend category (``attribution`` finds the line)."""
    t = aliased(Transfer, name="t")
    payer = aliased(Account, name="payer")
    plan = aliased(Plan, name="p")
    day = london_date(t.effective_at)
    k = period_index(plan.starts_on, plan.period_weeks, day)
    category = mcc.category_sql(t.mcc, t.category)
    columns: list[Any] = [
        t.id.label("transfer_id"),
        t.amount.label("amount"),
        t.code.label("code"),
        t.effective_at.label("effective_at"),
        day.label("day"),
        t.card_id.label("card_id"),
        t.mcc.label("mcc"),
        t.merchant_name.label("merchant_name"),
        t.payee.label("payee"),
        t.category.label("category"),
        category.label("spend_category"),
        (payer.kind == AccountKind.COMPANION_POT).label("from_pot"),
        plan.id.label("plan_id"),
        plan.person_id.label("person_id"),
        plan.budget_account_id.label("budget_account_id"),
        k.label("period_index"),
    ]
    return (
        select(*columns)
        .select_from(t)
        .join(payer, payer.id == t.debit_account_id)
        .join(
            plan,
            and_(plan.budget_account_id == budget_of(payer), plan.status == PlanStatus.ACTIVE),
        )
        .where(
            *window.clauses(t),
            t.phase.in_(POSTED_PHASES),
            t.code.in_(SPEND_CODES),
            day >= plan.starts_on,
        )
        .subquery("spend")
    )


def max_transfer_id(session: Session) -> int:
    """The newest committed transfer id: ids are gap-free and in commit order, so every
    transfer at or below it is already visible."""
    return int(session.execute(select(func.coalesce(func.max(Transfer.id), 0))).scalar_one())


# -- spend outside the plan ------------------------------------------------------------------


def unplanned_spend_found(session: Session, changed_after: int) -> list[Any]:
    """Unplanned card spend found (or grown) since the given transfer watermark."""
    u = UnplannedSpend
    return list(
        session.execute(
            select(u, Plan.person_id)
            .join(Plan, Plan.id == u.plan_id)
            .where(u.found_upto > changed_after)
            .order_by(u.id)
        ).all()
    )


def lines_over_allowance(session: Session, changed_after: int, tolerance_percent: int) -> list[Any]:
    """Recurring plan lines whose spend in a period that moved is over the allowance."""
    total = LinePeriodTotal
    return list(
        session.execute(
            select(
                total.plan_line_id,
                total.plan_id,
                total.period_index,
                total.amount,
                total.transfers,
                total.last_transfer_id,
                PlanLine.description,
                PlanLine.category,
                PlanLine.amount_per_period,
                Plan.person_id,
                Plan.starts_on,
                Plan.period_weeks,
            )
            .join(PlanLine, PlanLine.id == total.plan_line_id)
            .join(Plan, Plan.id == total.plan_id)
            .where(
                total.updated_upto > changed_after,
                PlanLine.one_off.is_(False),
                total.amount * 100 > PlanLine.amount_per_period * (100 + tolerance_percent),
            )
            .order_by(total.plan_line_id, total.period_index)
        ).all()
    )


def one_off_lines_over_allowance(
    session: Session, changed_after: int, tolerance_percent: int
) -> list[Any]:
    """One-off plan lines (an allowance for the life of the plan) spent beyond it."""
    moved = aliased(LinePeriodTotal, name="moved")
    total = aliased(LinePeriodTotal, name="total")
    lines = (
        select(moved.plan_line_id)
        .join(PlanLine, PlanLine.id == moved.plan_line_id)
        .where(moved.updated_upto > changed_after, PlanLine.one_off.is_(True))
        .distinct()
        .subquery("moved_one_off")
    )
    spent = sum_of(total.amount)
    return list(
        session.execute(
            select(
                total.plan_line_id,
                total.plan_id,
                spent.label("amount"),
                sum_of(total.transfers).label("transfers"),
                func.max(total.last_transfer_id).label("last_transfer_id"),
                PlanLine.description,
                PlanLine.category,
                PlanLine.amount_per_period,
                Plan.person_id,
            )
            .join(lines, lines.c.plan_line_id == total.plan_line_id)
            .join(PlanLine, PlanLine.id == total.plan_line_id)
            .join(Plan, Plan.id == total.plan_id)
            .group_by(
                total.plan_line_id,
                total.plan_id,
                PlanLine.description,
                PlanLine.category,
                PlanLine.amount_per_period,
                Plan.person_id,
            )
            .having(spent * 100 > PlanLine.amount_per_period * (100 + tolerance_percent))
        ).all()
    )
