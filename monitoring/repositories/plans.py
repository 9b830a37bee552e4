"""Plan-level queries for the time-based monitors: one statement over every active plan,
reading the period totals (and account totals) rather than the transfer log."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, exists, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased

from ledger.models import (
    Account,
    AccountKind,
    Person,
    Plan,
    PlanCategory,
    PlanLine,
    PlanStatus,
    Transfer,
    TransferCode,
)
from monitoring.models import LifeEvent, LifeEventKind, PlanPeriodTotal, ReviewRequest, ReviewStatus
from monitoring.repositories.spend import POSTED_PHASES, SPEND_CODES, Window, budget_of
from monitoring.repositories.sql import (
    days_between,
    json_array_contains,
    london_date,
    period_index,
)
from monitoring.repositories.sql import total as sum_of


def _day(value: date) -> Any:
    return literal(value, Date())


def current_period(plan: Any, today: date) -> Any:
    return period_index(plan.starts_on, plan.period_weeks, _day(today))


def _total(plan: Any, index: Any, column: str) -> Any:
    total = aliased(PlanPeriodTotal)
    return (
        select(sum_of(getattr(total, column)))
        .where(total.plan_id == plan.id, total.period_index == index)
        .scalar_subquery()
    )


def _sum_between(plan: Any, first: Any, last: Any, column: str) -> Any:
    total = aliased(PlanPeriodTotal)
    return (
        select(sum_of(getattr(total, column)))
        .where(total.plan_id == plan.id, total.period_index.between(first, last))
        .scalar_subquery()
    )


def _alive(plan: Any) -> Any:
    return ~exists().where(Person.id == plan.person_id, Person.date_of_death.is_not(None))


# -- client contributions ------------------------------------------------------------------


def contribution_periods(
    session: Session,
    today: date,
    grace_days: int,
    back: int,
    *,
    changed: Window | None = None,
    last_checked_on: date | None = None,
    plans_after: int = 0,
) -> list[Any]:
    """For each active plan with a contribution, its last ``back`` periods whose grace
    has passed by ``today``, with the running totals: ``received_n`` is everything paid
    in (from the plan's start) by the end of period ``last_index - n`` plus ``grace_days``,
    whichever period it arrived in, so a late payment counts for the period it is for. A
    contribution returned (reversed) counts against what was paid in from the day it went
    back. One statement over the contributions of every such plan, grouped by plan.

    With ``changed`` and ``last_checked_on`` (an incremental run, on the day of the last
    run), only the plans whose answer may have changed since: a period's grace has ended
    since (the last period checked moved on), a contribution or a reversal in ``changed``
    was on the budget, or the plan is newer than plan ``plans_after``."""
    plan = aliased(Plan, name="p")
    paid = _contributions_in().subquery("paid_in")
    # The periods whose last day plus the grace is before today.
    last = _last_checked(plan, today, grace_days)
    days_in = days_between(plan.starts_on, london_date(paid.c.effective_at))
    columns: list[Any] = [
        plan.id.label("plan_id"),
        plan.person_id,
        plan.starts_on,
        plan.period_weeks,
        plan.client_contribution_per_period.label("per_period"),
        last.label("last_index"),
    ]
    for n in range(back):
        deadline = (last - n + 1) * plan.period_weeks * 7 - 1 + grace_days
        amount = case(
            (and_(paid.c.amount.is_not(None), days_in <= deadline), paid.c.amount), else_=0
        )
        columns.append(sum_of(amount).label(f"received_{n}"))
    query = (
        select(*columns)
        .select_from(plan)
        .outerjoin(paid, and_(paid.c.budget_id == plan.budget_account_id, days_in >= 0))
        .where(
            plan.status == PlanStatus.ACTIVE,
            plan.client_contribution_per_period > 0,
            plan.starts_on <= today - timedelta(days=grace_days),
            last >= 0,
            _alive(plan),
        )
        .group_by(
            plan.id,
            plan.person_id,
            plan.starts_on,
            plan.period_weeks,
            plan.client_contribution_per_period,
        )
    )
    if changed is not None and last_checked_on is not None:
        query = query.where(
            or_(
                last != _last_checked(plan, last_checked_on, grace_days),
                plan.budget_account_id.in_(
                    select(_contributions_in(changed).subquery().c.budget_id)
                ),
                plan.id > plans_after,
            )
        )
    return list(session.execute(query).all())


def last_plan_id(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(Plan.id), 0))).scalar_one())


def _last_checked(plan: Any, on: date, grace_days: int) -> Any:
    """The last period of ``plan`` whose grace had ended by the day ``on``."""
    return (
        period_index(plan.starts_on, plan.period_weeks, _day(on - timedelta(days=grace_days))) - 1
    )


def _contributions_in(window: Window | None = None) -> Any:
    """(budget_id, amount, effective_at) of every posted contribution, and of every
    reversal of one as a negative amount (a standing order returned by the bank)."""
    t = aliased(Transfer, name="t")
    original = aliased(Transfer, name="contribution")
    posted = [t.phase.in_(POSTED_PHASES), *(window.clauses(t) if window is not None else ())]
    paid_in = select(
        t.credit_account_id.label("budget_id"), t.amount.label("amount"), t.effective_at
    ).where(t.code == TransferCode.CONTRIBUTION, *posted)
    returned = (
        select(t.debit_account_id, -t.amount, t.effective_at)
        .join(original, original.id == t.reverses_id)
        .where(
            t.code == TransferCode.REVERSAL,
            original.code == TransferCode.CONTRIBUTION,
            *posted,
        )
    )
    return union_all(paid_in, returned)


# -- cash ------------------------------------------------------------------------------------


def cash_over_allowance(session: Session, changed_after: int, tolerance: int) -> list[Any]:
    """Plan periods that moved in which cash withdrawn is over the plan's cash share."""
    total = PlanPeriodTotal
    return list(
        session.execute(
            select(
                total.plan_id,
                total.period_index,
                total.cash,
                total.last_transfer_id,
                Plan.person_id,
                Plan.starts_on,
                Plan.period_weeks,
                Plan.cash_allowance_per_period.label("allowance"),
                Plan.budget_account_id,
            )
            .join(Plan, Plan.id == total.plan_id)
            .where(
                total.updated_upto > changed_after,
                total.cash > Plan.cash_allowance_per_period + tolerance,
            )
            .order_by(total.plan_id, total.period_index)
        ).all()
    )


# -- surplus ---------------------------------------------------------------------------------


def surplus_positions(
    session: Session,
    today: date,
    weeks_kept: int,
    plan_id: int | None = None,
    *,
    changed: Window | None = None,
    last_looked_on: date | None = None,
) -> list[Any]:
    """Each active plan's money: budget and pots, open holds, last period's regular
    payments. Only plans holding more than ``weeks_kept`` weeks of budget after holds and
    commitments (all plans when ``plan_id`` is given: the clawback calculation).

    With ``changed`` and ``last_looked_on`` (an incremental run), only plans whose money
    may have moved since: a transfer in ``changed`` touched the budget or one of its pots,
    or the plan has entered a new period since ``last_looked_on`` (what is committed is
    last period's regular payments)."""
    plan = aliased(Plan, name="p")
    budget = aliased(Account, name="b")
    pot = aliased(Account, name="pot")
    pots = (
        select(
            pot.parent_id.label("budget_id"),
            sum_of(pot.credits_posted - pot.debits_posted).label("posted"),
            sum_of(pot.debits_pending).label("pending"),
        )
        .where(pot.kind == AccountKind.COMPANION_POT)
        .group_by(pot.parent_id)
        .subquery("pots")
    )
    k = current_period(plan, today)
    committed = _total(plan, k - 1, "regular_payments")
    budget_posted = budget.credits_posted - budget.debits_posted
    pots_posted = func.coalesce(pots.c.posted, 0)
    holds = budget.debits_pending + func.coalesce(pots.c.pending, 0)
    free = budget_posted + pots_posted - holds - committed
    query = (
        select(
            plan.id.label("plan_id"),
            plan.person_id,
            plan.budget_account_id,
            plan.budget_per_period,
            plan.period_weeks,
            k.label("period_index"),
            budget_posted.label("budget_posted"),
            (budget_posted - budget.debits_pending).label("budget_available"),
            pots_posted.label("pots_posted"),
            holds.label("holds"),
            committed.label("committed"),
        )
        .join(budget, budget.id == plan.budget_account_id)
        .outerjoin(pots, pots.c.budget_id == budget.id)
        .where(plan.status == PlanStatus.ACTIVE, plan.starts_on <= today)
    )
    if plan_id is not None:
        query = query.where(plan.id == plan_id)
    else:
        query = query.where(free * plan.period_weeks > plan.budget_per_period * weeks_kept)
    if changed is not None and last_looked_on is not None:
        query = query.where(
            or_(
                plan.budget_account_id.in_(_budgets_touched(changed)),
                k != current_period(plan, last_looked_on),
            )
        )
    return list(session.execute(query).all())


def _budgets_touched(window: Window) -> Any:
    """The budgets a transfer in ``window`` moved money on (itself or a pot)."""
    t = aliased(Transfer, name="touched")
    account = aliased(Account, name="touched_account")
    sides = [
        select(budget_of(account))
        .select_from(t)
        .join(account, account.id == side)
        .where(*window.clauses(t))
        for side in (t.debit_account_id, t.credit_account_id)
    ]
    return union(*sides)


# -- under-spend -----------------------------------------------------------------------------


def low_spend(session: Session, today: date, periods: int, percent: int) -> list[Any]:
    """Active plans whose spend over their last ``periods`` complete periods was below
    ``percent`` of the budget for them (people who have died are left out)."""
    plan = aliased(Plan, name="p")
    k = current_period(plan, today)
    spent = _sum_between(plan, k - periods, k - 1, "spend")
    return list(
        session.execute(
            select(
                plan.id.label("plan_id"),
                plan.person_id,
                plan.starts_on,
                plan.period_weeks,
                plan.budget_per_period,
                k.label("period_index"),
                spent.label("spent"),
            ).where(
                plan.status == PlanStatus.ACTIVE,
                plan.starts_on <= today,
                k >= periods,
                spent * 100 < plan.budget_per_period * periods * percent,
                _alive(plan),
            )
        ).all()
    )


def no_recent_spend(session: Session, today: date, cutoff: datetime, weeks: int) -> list[Any]:
    """Active plans running for at least ``weeks`` with no spend since ``cutoff``."""
    plan = aliased(Plan, name="p")
    total = aliased(PlanPeriodTotal)
    last_spend = (
        select(func.max(total.last_spend_at)).where(total.plan_id == plan.id).scalar_subquery()
    )
    return list(
        session.execute(
            select(
                plan.id.label("plan_id"),
                plan.person_id,
                plan.starts_on,
                last_spend.label("last_spend_at"),
            ).where(
                plan.status == PlanStatus.ACTIVE,
                days_between(plan.starts_on, _day(today)) >= weeks * 7,
                or_(last_spend.is_(None), last_spend < cutoff),
                _alive(plan),
            )
        ).all()
    )


def stays_overlapping(
    session: Session, person_ids: list[int], start: date, end: date
) -> dict[int, list[Any]]:
    """Hospital stays and respite of these people overlapping [start, end]."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(LifeEvent).where(
            LifeEvent.person_id.in_(sorted(set(person_ids))),
            LifeEvent.kind.in_([LifeEventKind.HOSPITAL_STAY, LifeEventKind.RESPITE]),
            LifeEvent.starts_on <= end,
            or_(LifeEvent.ends_on.is_(None), LifeEvent.ends_on >= start),
        )
    ).scalars()
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row.person_id, []).append(row)
    return out


# -- sudden change and companion spending ----------------------------------------------------


def spend_jumps(
    session: Session, changed_after: int, history: int, factor: int, min_pence: int
) -> list[Any]:
    """Plan periods whose spend moved since ``changed_after`` and is now more than
    ``factor`` times the average of the ``history`` periods before it, by ``min_pence``."""
    total = aliased(PlanPeriodTotal, name="total")
    before = aliased(PlanPeriodTotal, name="before")
    usual = (
        select(sum_of(before.spend))
        .where(
            before.plan_id == total.plan_id,
            before.period_index.between(total.period_index - history, total.period_index - 1),
        )
        .scalar_subquery()
    )
    return list(
        session.execute(
            select(
                total.plan_id,
                total.period_index,
                total.spend.label("spent"),
                usual.label("before"),
                Plan.person_id,
                Plan.starts_on,
                Plan.period_weeks,
            )
            .join(Plan, Plan.id == total.plan_id)
            .where(
                total.updated_upto > changed_after,
                total.period_index >= history,
                total.spend * history > usual * factor,
                total.spend * history - usual > min_pence * history,
            )
            .order_by(total.plan_id, total.period_index)
        ).all()
    )


def companion_heavy_periods(
    session: Session, changed_after: int, percent: int, min_pence: int
) -> list[Any]:
    """Plan periods that moved in which companion cards spent more than ``percent`` of
    everything spent (and at least ``min_pence``)."""
    total = PlanPeriodTotal
    return list(
        session.execute(
            select(
                total.plan_id,
                total.period_index,
                total.spend,
                total.companion_spend,
                Plan.person_id,
                Plan.starts_on,
                Plan.period_weeks,
            )
            .join(Plan, Plan.id == total.plan_id)
            .where(
                total.updated_upto > changed_after,
                total.companion_spend >= min_pence,
                total.companion_spend * 100 > total.spend * percent,
            )
            .order_by(total.plan_id, total.period_index)
        ).all()
    )


# -- reviews ---------------------------------------------------------------------------------


def reviews_due(session: Session, by: date) -> list[Any]:
    return list(
        session.execute(
            select(Plan.id.label("plan_id"), Plan.person_id, Plan.review_date).where(
                Plan.status == PlanStatus.ACTIVE, Plan.review_date <= by
            )
        ).all()
    )


def requested_reviews_overdue(session: Session, today: date) -> list[Any]:
    return list(
        session.execute(
            select(ReviewRequest).where(
                ReviewRequest.status == ReviewStatus.REQUESTED, ReviewRequest.due_by < today
            )
        ).scalars()
    )


# -- employer duties -------------------------------------------------------------------------


def employers_without_payment(
    session: Session,
    today: date,
    *,
    started_days: int,
    cutoff: datetime,
    line_category: PlanCategory,
    payee_words: tuple[str, ...],
    mccs: tuple[str, ...],
) -> list[Any]:
    """Active plans that employ a personal assistant (a PA-wages line), running for at
    least ``started_days``, for people who are alive, whose budget has made no payment of
    the given kind since ``cutoff``: its MCC is one of ``mccs``, its payee or merchant
    contains one of ``payee_words``, or its payee is agreed on one of the plan's lines of
    ``line_category``. One statement: the payments are looked for with NOT EXISTS, by
    the budget's debit-and-effective-date index."""
    plan = aliased(Plan, name="p")
    pa_line = aliased(PlanLine, name="pa_line")
    duty_line = aliased(PlanLine, name="duty_line")
    t = aliased(Transfer, name="t")
    employs = exists().where(pa_line.plan_id == plan.id, pa_line.category == PlanCategory.PA_WAGES)
    named = [
        func.lower(func.coalesce(t.payee, t.merchant_name, "")).like(f"%{word}%")
        for word in payee_words
    ]
    agreed = exists().where(
        duty_line.plan_id == plan.id,
        duty_line.category == line_category,
        or_(
            json_array_contains(duty_line.agreed_payees, t.payee),
            json_array_contains(duty_line.agreed_payees, t.merchant_name),
        ),
    )
    paid = exists().where(
        t.debit_account_id == plan.budget_account_id,
        t.effective_at >= cutoff,
        t.phase.in_(POSTED_PHASES),
        t.code.in_(SPEND_CODES),
        or_(t.mcc.in_(mccs), *named, agreed),
    )
    return list(
        session.execute(
            select(
                plan.id.label("plan_id"),
                plan.person_id,
                plan.budget_account_id,
                current_period(plan, today).label("period_index"),
            )
            .where(
                plan.status == PlanStatus.ACTIVE,
                days_between(plan.starts_on, _day(today)) >= started_days,
                employs,
                _alive(plan),
                ~paid,
            )
            .order_by(plan.id)
        ).all()
    )
