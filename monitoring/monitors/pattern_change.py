"""Possible financial abuse: spending in a period suddenly far above the person's own
pattern (the average of their previous periods)."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, period_words, pounds
from monitoring.repositories import plans as repo


class PatternChangeMonitor:
    name: ClassVar[str] = "pattern_change"
    title: ClassVar[str] = "Sudden change from the person's own pattern"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "Spending in a plan period more than 3 times (by default) the average of the "
        "person's previous 3 periods, and by at least £200, checked as spending arrives."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        history = s.pattern_change_history_periods
        rows = repo.spend_jumps(
            ctx.session,
            ctx.totals_changed_after,
            history,
            s.pattern_change_factor,
            s.pattern_change_min_pence,
        )
        hits = []
        for row in rows:
            usual = row.before // history
            hits.append(
                Hit(
                    rule="pattern_change.spend_jump",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"period:{row.period_index}",
                    severity=Severity.MEDIUM,
                    title="Spending suddenly much higher than usual",
                    explanation=(
                        f"{pounds(row.spent)} has been spent in "
                        f"{period_words(row.starts_on, row.period_weeks, row.period_index)}, "
                        f"against an average of {pounds(usual)} in the {history} periods "
                        f"before."
                    ),
                    person_id=row.person_id,
                    figures={"spent": row.spent, "usual": usual, "period_index": row.period_index},
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
