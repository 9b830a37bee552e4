"""Surplus: more money on the card than the plan needs, above N weeks of budget once
open holds, committed regular payments and a contingency are set aside. Each flag
carries an itemised clawback proposal."""

from __future__ import annotations

from typing import ClassVar

from ledger.money import format_pence
from monitoring import surplus
from monitoring.dates import london_date
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext
from monitoring.repositories import plans as repo

THRESHOLDS = ("surplus_weeks", "contingency_weeks")


class SurplusMonitor:
    name: ClassVar[str] = "surplus"
    title: ClassVar[str] = "Surplus above the council's limit"
    family: ClassVar[str] = "surplus"
    description: ClassVar[str] = (
        "The budget and its pots hold more than N weeks of budget (default 8) after open "
        "holds, committed regular payments and a contingency: a clawback proposal. Looks "
        "at budgets money moved on since the last run, and plans in a new period."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        settings = ctx.settings
        weeks = settings.surplus_weeks + settings.contingency_weeks
        # A first run, --since, or a change to the thresholds looks at every plan.
        incremental = ctx.only_what_changed(THRESHOLDS)
        rows = repo.surplus_positions(
            ctx.session,
            ctx.today,
            weeks,
            changed=ctx.window if incremental else None,
            last_looked_on=london_date(ctx.last_run_at) if ctx.last_run_at else None,
        )
        hits = []
        for row in rows:
            calc = surplus.calculate(row, settings)
            if calc.surplus <= 0:
                continue
            severity = Severity.MEDIUM if calc.surplus < calc.kept else Severity.HIGH
            hits.append(
                Hit(
                    rule="surplus.above_limit",
                    subject_type="plan",
                    subject_id=calc.plan_id,
                    # Once per period and severity: a surplus that grows past the
                    # amount kept within a period raises the flag's severity.
                    evidence_key=f"period:{calc.period_index}:{severity.value}",
                    severity=severity,
                    title=f"Surplus of {format_pence(calc.surplus)} above {calc.weeks_kept} weeks",
                    explanation=explain(calc),
                    person_id=calc.person_id,
                    figures=calc.items(),
                    suggested_action=SuggestedAction.CLAWBACK,
                )
            )
        return hits


def explain(calc: surplus.SurplusCalculation) -> str:
    f = format_pence
    pots = f" and {f(calc.pots_posted)} in companion pots" if calc.pots_posted else ""
    return (
        f"The card holds {f(calc.budget_posted)}{pots}. Setting aside {f(calc.holds)} of "
        f"payments waiting to settle, {f(calc.committed)} of regular payments expected "
        f"again and a contingency of {f(calc.contingency)} leaves {f(calc.free)}, which is "
        f"{f(calc.surplus)} more than {calc.weeks_kept} weeks of budget "
        f"({f(calc.kept)}). Proposed clawback: {f(calc.proposal)} (at most what the budget "
        f"has available less the contingency, {f(calc.recoverable)})."
    )
