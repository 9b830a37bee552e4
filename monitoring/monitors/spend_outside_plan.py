"""Spend outside the plan: card spend on something no plan line covers, spend in a
council-blocked category, and a plan line spent beyond its allowance for a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from monitoring.dates import london_date, period_start, start_of_day
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, period_words, pounds
from monitoring.repositories import evidence as transfers_behind
from monitoring.repositories import spend as repo


class SpendOutsidePlanMonitor:
    name: ClassVar[str] = "spend_outside_plan"
    title: ClassVar[str] = "Spend outside the plan"
    family: ClassVar[str] = "plan"
    description: ClassVar[str] = (
        "Card spend that no line of the person's plan covers, spend in a category the "
        "council blocks (gambling, alcohol, tobacco by default), and plan lines spent "
        "beyond their allowance for a period."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        settings = ctx.settings
        hits: list[Hit] = []
        found = repo.unplanned_spend_found(ctx.session, ctx.totals_changed_after)
        paid_by = transfers_behind.unplanned_transfer_ids(ctx.session, [row.id for row, _ in found])
        for row, person_id in found:
            where = row.merchant or "a merchant"
            paid = _payments(row.amount, row.transfers, where, row.first_at, row.last_at)
            evidence = dict(
                subject_type="card",
                subject_id=row.card_id,
                evidence_key=f"period:{row.period_index}:{row.mcc}:{where}:{row.last_transfer_id}",
                person_id=person_id,
                transfer_ids=tuple(paid_by.get(row.id) or [row.last_transfer_id]),
                figures={
                    "amount": row.amount,
                    "payments": row.transfers,
                    "mcc": row.mcc,
                    "period_index": row.period_index,
                },
                suggested_action=SuggestedAction.CONTACT_HOLDER,
            )
            if row.spend_category in settings.blocked_categories:
                hits.append(
                    Hit(
                        rule="spend_outside_plan.blocked_category",
                        severity=Severity.HIGH,
                        title=f"Spend in a blocked category ({row.spend_category})",
                        explanation=(
                            f"{paid} (merchant category {row.mcc}, {row.spend_category}). The "
                            f"council does not allow direct payments to be spent on "
                            f"{row.spend_category}, and no plan line agrees an exception."
                        ),
                        **evidence,
                    )
                )
                continue
            category = row.spend_category.replace("_", " ")
            hits.append(
                Hit(
                    rule="spend_outside_plan.not_in_plan",
                    severity=Severity.LOW,
                    title="Spend not covered by the plan",
                    explanation=(
                        f"{paid}. It looks like {category} (merchant category {row.mcc}), "
                        f"which no line of the plan covers. It may be a sensible use of the "
                        f"budget that the plan should record, or a mistake."
                    ),
                    **evidence,
                )
            )
        tolerance = settings.line_allowance_tolerance_percent
        over = repo.lines_over_allowance(ctx.session, ctx.totals_changed_after, tolerance)
        one_off = repo.one_off_lines_over_allowance(
            ctx.session, ctx.totals_changed_after, tolerance
        )
        spent_by = transfers_behind.line_transfer_ids(
            ctx.session,
            [_period_window(row) for row in over]
            + [
                transfers_behind.LineWindow(
                    row.plan_line_id, row.plan_id, None, None, row.last_transfer_id
                )
                for row in one_off
            ],
        )
        for row in over:
            window = _period_window(row)
            period = period_words(row.starts_on, row.period_weeks, row.period_index)
            hits.append(
                Hit(
                    rule="spend_outside_plan.over_allowance",
                    subject_type="plan_line",
                    subject_id=row.plan_line_id,
                    evidence_key=f"period:{row.period_index}",
                    severity=Severity.MEDIUM,
                    title=f"Over the plan's allowance for {row.description}",
                    explanation=(
                        f'{pounds(row.amount)} was spent on "{row.description}" in {period}, '
                        f"against an allowance of {pounds(row.amount_per_period)} "
                        f"({row.transfers} payments, the latest transfer "
                        f"{row.last_transfer_id})."
                    ),
                    person_id=row.person_id,
                    transfer_ids=tuple(
                        spent_by.get((row.plan_line_id, window.start)) or [row.last_transfer_id]
                    ),
                    figures={
                        "spent": row.amount,
                        "allowance": row.amount_per_period,
                        "period_index": row.period_index,
                        "tolerance_percent": tolerance,
                    },
                    plan_line_id=row.plan_line_id,
                    suggested_action=SuggestedAction.CONTACT_HOLDER,
                )
            )
        for row in one_off:
            hits.append(
                Hit(
                    rule="spend_outside_plan.over_allowance",
                    subject_type="plan_line",
                    subject_id=row.plan_line_id,
                    evidence_key=f"upto:{row.last_transfer_id}",
                    severity=Severity.MEDIUM,
                    title=f"Over the plan's one-off allowance for {row.description}",
                    explanation=(
                        f'{pounds(row.amount)} has been spent on "{row.description}", a '
                        f"one-off allowance of {pounds(row.amount_per_period)} "
                        f"({row.transfers} payments, the latest transfer "
                        f"{row.last_transfer_id})."
                    ),
                    person_id=row.person_id,
                    transfer_ids=tuple(
                        spent_by.get((row.plan_line_id, None)) or [row.last_transfer_id]
                    ),
                    figures={"spent": row.amount, "allowance": row.amount_per_period},
                    plan_line_id=row.plan_line_id,
                    suggested_action=SuggestedAction.CONTACT_HOLDER,
                )
            )
        return hits


def _period_window(row: Any) -> transfers_behind.LineWindow:
    return transfers_behind.LineWindow(
        row.plan_line_id,
        row.plan_id,
        start_of_day(period_start(row.starts_on, row.period_weeks, row.period_index)),
        start_of_day(period_start(row.starts_on, row.period_weeks, row.period_index + 1)),
        row.last_transfer_id,
    )


def _payments(amount: int, count: int, where: str, first: datetime, last: datetime) -> str:
    if count == 1:
        return f"{pounds(amount)} was spent at {where} on {long_date(london_date(last))}"
    span = f"{long_date(london_date(first))} and {long_date(london_date(last))}"
    return f"{count} payments totalling {pounds(amount)} were made at {where} between {span}"
