"""Possible financial abuse: a companion card spending out of proportion to the rest of
the cared-for person's budget."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, period_words, pounds
from monitoring.repositories import plans as repo


class CompanionShareMonitor:
    name: ClassVar[str] = "companion_share"
    title: ClassVar[str] = "Companion spending out of proportion"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "Companion cards spent more than half (by default) of everything spent from the "
        "person's budget in a plan period, and at least £100."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        rows = repo.companion_heavy_periods(
            ctx.session,
            ctx.totals_changed_after,
            s.companion_share_percent,
            s.companion_share_min_pence,
        )
        hits = []
        for row in rows:
            share = row.companion_spend * 100 // row.spend
            hits.append(
                Hit(
                    rule="companion_share.out_of_proportion",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"period:{row.period_index}",
                    severity=Severity.MEDIUM,
                    title=f"Companion cards spent {share}% of the budget's spending",
                    explanation=(
                        f"Companion cards spent {pounds(row.companion_spend)} of the "
                        f"{pounds(row.spend)} spent from the person's budget in "
                        f"{period_words(row.starts_on, row.period_weeks, row.period_index)}."
                    ),
                    person_id=row.person_id,
                    figures={
                        "companion_spend": row.companion_spend,
                        "all_spend": row.spend,
                        "period_index": row.period_index,
                    },
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
