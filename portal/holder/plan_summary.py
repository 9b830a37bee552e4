"""The plan in plain words: what the budget is for, how each line's spend compares with
its allowance this period, what the person pays in, and when the next load comes.

Spend is matched to a plan line by, in order: an agreed payee, a merchant category code
the line names, then the spend's category (from the provider, or from its MCC). What
matches no line is shown as such, never guessed into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ledger.categories import plan_category
from ledger.clock import Clock
from ledger.models import PlanCategory, PlanKind, PlanLine, TransferCode
from portal.holder.periods import NextLoad, Period, london_today, next_load, periods_so_far
from portal.repositories import plans as plans_repo
from portal.repositories.plans import SpendGroup

CATEGORY_LABELS: dict[PlanCategory, str] = {
    PlanCategory.PA_WAGES: "Personal assistant wages",
    PlanCategory.AGENCY_CARE: "Care from an agency",
    PlanCategory.REPLACEMENT_CARE: "Replacement care",
    PlanCategory.DAY_ACTIVITY: "Day activities",
    PlanCategory.EQUIPMENT: "Equipment",
    PlanCategory.TRANSPORT: "Transport",
    PlanCategory.WELLBEING: "Wellbeing",
    PlanCategory.SHORT_BREAK: "Short breaks",
    PlanCategory.HMRC_PAYE: "Tax and National Insurance (PAYE)",
    PlanCategory.EMPLOYERS_LIABILITY_INSURANCE: "Employer's liability insurance",
    PlanCategory.PAYROLL_SERVICE: "Payroll service",
    PlanCategory.CASH: "Cash",
}

CONTRIBUTION_PERIODS_SHOWN = 6


def category_for_mcc(mcc: str | None) -> str | None:
    """The plan category a merchant category code falls under. The one place the portal
    maps MCCs: the table itself is the ledger's (ledger/categories.py), shared with
    the adapters and monitoring."""
    found = plan_category(mcc)
    return found.value if found is not None else None


@dataclass(frozen=True)
class LineProgress:
    description: str
    category: str
    allowance: int
    one_off: bool
    spent: int

    @property
    def left(self) -> int:
        return self.allowance - self.spent

    @property
    def overspent(self) -> bool:
        return self.spent > self.allowance


@dataclass(frozen=True)
class ContributionPeriod:
    period: Period
    due: int
    paid: int

    @property
    def outstanding(self) -> int:
        return max(self.due - self.paid, 0)


@dataclass(frozen=True)
class PlanSummary:
    kind: PlanKind
    budget_per_period: int
    period_weeks: int
    review_date: date
    period: Period | None
    lines: list[LineProgress]
    cash: LineProgress | None
    not_matched: int
    next_load: NextLoad | None
    contribution_per_period: int
    contributions: list[ContributionPeriod]

    @property
    def kind_text(self) -> str:
        if self.kind is PlanKind.CARER_SUPPORT:
            return "carer's support plan"
        return "care and support plan"


def plan_summary(session: Session, clock: Clock, budget_account_id: int) -> PlanSummary | None:
    """The summary of the budget's active plan for today, or None without one."""
    plan = plans_repo.active_plan(session, budget_account_id)
    if plan is None:
        return None
    today = london_today(clock)
    periods = periods_so_far(plan, today)
    current = periods[0] if periods and periods[0].ends_on > today else None
    groups: list[SpendGroup] = []
    if current is not None:
        accounts = plans_repo.budget_family(session, budget_account_id)
        groups = plans_repo.spend_groups(session, accounts, current.start_at, current.end_at)
    spent_by_line: dict[int, int] = {line.id: 0 for line in plan.lines}
    cash_spent = 0
    not_matched = 0
    for group in groups:
        line = line_for(group, plan.lines)
        if line is not None:
            spent_by_line[line.id] += group.spent
        elif group.code is TransferCode.CASH_WITHDRAWAL:
            cash_spent += group.spent
        else:
            not_matched += group.spent
    shown = periods[:CONTRIBUTION_PERIODS_SHOWN]
    paid = plans_repo.contributions_by_period(
        session, budget_account_id, [(p.start_at, p.end_at) for p in reversed(shown)]
    )
    return PlanSummary(
        kind=plan.kind,
        budget_per_period=plan.budget_per_period,
        period_weeks=plan.period_weeks,
        review_date=plan.review_date,
        period=current,
        lines=[
            LineProgress(
                description=line.description,
                category=CATEGORY_LABELS[line.category],
                allowance=line.amount_per_period,
                one_off=line.one_off,
                spent=spent_by_line[line.id],
            )
            for line in plan.lines
        ],
        cash=(
            LineProgress(
                "Cash withdrawals", "Cash", plan.cash_allowance_per_period, False, cash_spent
            )
            if plan.cash_allowance_per_period or cash_spent
            else None
        ),
        not_matched=not_matched,
        next_load=next_load(plan, today),
        contribution_per_period=plan.client_contribution_per_period,
        contributions=[
            ContributionPeriod(p, plan.client_contribution_per_period, amount)
            for p, amount in zip(reversed(shown), paid, strict=True)
        ][::-1],
    )


def line_for(group: SpendGroup, lines: Sequence[PlanLine]) -> PlanLine | None:
    """The plan line a group of spend is for, or None (see the module docstring)."""
    payee = (group.payee or "").casefold()
    if payee:
        for line in lines:
            if payee in {p.casefold() for p in line.agreed_payees}:
                return line
    if group.mcc:
        for line in lines:
            if group.mcc in line.merchant_categories:
                return line
    category = group.category or category_for_mcc(group.mcc)
    for line in lines:
        if category == line.category.value:
            return line
    return None
