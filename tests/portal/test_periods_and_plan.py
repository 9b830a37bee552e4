"""Plan periods in council dates, the next load, and matching spend to plan lines."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.models import Plan, PlanCategory, PlanLine, TransferCode
from portal.holder.periods import (
    london_midnight,
    next_load,
    period,
    period_number,
    periods_so_far,
)
from portal.holder.plan_summary import category_for_mcc, line_for
from portal.repositories.plans import SpendGroup


def _plan(starts_on: date = date(2026, 1, 5), ends_on: date | None = None) -> Plan:
    return Plan(period_weeks=4, budget_per_period=100000, starts_on=starts_on, ends_on=ends_on)


def test_periods_run_every_period_weeks_from_the_start() -> None:
    plan = _plan()
    assert period_number(plan, date(2026, 1, 4)) is None
    assert period_number(plan, date(2026, 1, 5)) == 1
    assert period_number(plan, date(2026, 2, 1)) == 1
    assert period_number(plan, date(2026, 2, 2)) == 2
    assert period(plan, 3).starts_on == date(2026, 3, 2)
    assert period(plan, 3).last_day == date(2026, 3, 29)
    assert [p.number for p in periods_so_far(plan, date(2026, 3, 2))] == [3, 2, 1]


def test_a_period_begins_at_london_midnight() -> None:
    assert london_midnight(date(2026, 1, 5)) == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    assert london_midnight(date(2026, 7, 1)) == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    across = period(_plan(date(2026, 3, 9)), 1)  # BST starts on 29 March 2026
    assert across.start_at == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    assert across.end_at == datetime(2026, 4, 5, 23, 0, tzinfo=UTC)


def test_the_next_load_is_the_next_period_start_while_the_plan_runs() -> None:
    plan = _plan(ends_on=date(2026, 3, 15))
    assert next_load(plan, date(2026, 1, 1)).on == date(2026, 1, 5)
    assert next_load(plan, date(2026, 1, 5)).on == date(2026, 2, 2)
    assert next_load(plan, date(2026, 2, 20)).on == date(2026, 3, 2)
    assert next_load(plan, date(2026, 3, 3)) is None  # the plan has ended by then
    assert next_load(_plan(), date(2026, 2, 20)).amount == 100000


def test_a_finished_plan_keeps_its_statement_periods() -> None:
    plan = _plan(ends_on=date(2026, 2, 10))
    assert [p.number for p in periods_so_far(plan, date(2026, 6, 1))] == [2, 1]
    assert periods_so_far(plan, date(2025, 12, 1)) == []


def _line(category: PlanCategory, **kw: list[str]) -> PlanLine:
    return PlanLine(
        category=category,
        description=category.value,
        amount_per_period=1000,
        agreed_payees=kw.get("payees", []),
        merchant_categories=kw.get("mccs", []),
    )


def _group(
    mcc: str | None = None, payee: str | None = None, category: str | None = None
) -> SpendGroup:
    return SpendGroup(TransferCode.CARD_SPEND, category, mcc, payee, 500)


def test_spend_matches_a_line_by_payee_then_mcc_then_category() -> None:
    pa = _line(PlanCategory.PA_WAGES, payees=["Sarah Cole (PA)"])
    day = _line(PlanCategory.DAY_ACTIVITY, mccs=["8351"])
    care = _line(PlanCategory.AGENCY_CARE)
    lines = [pa, day, care]
    assert line_for(_group(payee="sarah cole (pa)"), lines) is pa
    assert line_for(_group(mcc="8351"), lines) is day
    assert line_for(_group(category="agency_care"), lines) is care
    assert line_for(_group(mcc="8099"), lines) is care  # an MCC's own category
    assert line_for(_group(mcc="5411", payee="Tesco"), lines) is None


def test_the_mcc_mapping_is_the_adapters_table() -> None:
    assert category_for_mcc("6011") == "cash"
    assert category_for_mcc(None) is None
