"""Read-only queries on plans and on the spending they allow (the cash allowance)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.models import Account, Phase, Plan, PlanLine, PlanStatus, Transfer, TransferCode


def active_plan(session: Session, budget_account_id: int, on: date) -> Plan | None:
    """The active plan funding the budget on ``on`` (the latest started, if several)."""
    return (
        session.execute(
            select(Plan)
            .where(
                Plan.budget_account_id == budget_account_id,
                Plan.status == PlanStatus.ACTIVE,
                Plan.starts_on <= on,
                or_(Plan.ends_on.is_(None), Plan.ends_on >= on),
            )
            .order_by(Plan.starts_on.desc(), Plan.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def cash_used_since(session: Session, budget_account_id: int, since: datetime) -> int:
    """Cash taken from the budget (its companion pots and arrears included) since
    ``since``: cash settled, plus cash holds still open."""
    related = select(Account.id).where(
        or_(Account.id == budget_account_id, Account.parent_id == budget_account_id)
    )
    resolution = aliased(Transfer)
    still_open = ~select(resolution.id).where(resolution.pending_id == Transfer.id).exists()
    total = session.execute(
        select(func.coalesce(func.sum(Transfer.amount), 0)).where(
            Transfer.debit_account_id.in_(related.scalar_subquery()),
            Transfer.code == TransferCode.CASH_WITHDRAWAL,
            Transfer.effective_at >= since,
            or_(
                Transfer.phase.in_((Phase.POSTED, Phase.POST_PENDING)),
                (Transfer.phase == Phase.PENDING) & still_open,
            ),
        )
    ).scalar_one()
    return int(total)


def agreed_merchant_categories(session: Session, budget_account_id: int, on: date) -> set[str]:
    """The merchant categories the lines of the budget's active plan agree on ``on``."""
    plan = active_plan(session, budget_account_id, on)
    if plan is None:
        return set()
    rows = session.execute(
        select(PlanLine.merchant_categories).where(PlanLine.plan_id == plan.id)
    ).scalars()
    return {str(mcc) for listed in rows for mcc in (listed or [])}
