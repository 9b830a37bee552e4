"""Cash beyond the plan's agreed share: cash withdrawn in a plan period above the plan's
cash allowance."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, period_words, pounds
from monitoring.repositories import plans as repo


class CashBeyondShareMonitor:
    name: ClassVar[str] = "cash_beyond_share"
    title: ClassVar[str] = "Cash beyond the agreed share"
    family: ClassVar[str] = "plan"
    description: ClassVar[str] = (
        "Cash withdrawn in a plan period above the cash share the plan agrees."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        hits = []
        tolerance = ctx.settings.cash_tolerance_pence
        for row in repo.cash_over_allowance(ctx.session, ctx.totals_changed_after, tolerance):
            period = period_words(row.starts_on, row.period_weeks, row.period_index)
            agreed = (
                f"the plan's cash share of {pounds(row.allowance)}"
                if row.allowance
                else "the plan, which agrees no cash"
            )
            severity = (
                Severity.HIGH if row.cash > 2 * row.allowance + tolerance else Severity.MEDIUM
            )
            hits.append(
                Hit(
                    rule="cash_beyond_share.over_allowance",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"period:{row.period_index}:{severity.value}",
                    severity=severity,
                    title="Cash withdrawn beyond the agreed share",
                    explanation=(
                        f"{pounds(row.cash)} was taken in cash in {period}, more than "
                        f"{agreed} (the latest withdrawal is transfer {row.last_transfer_id})."
                    ),
                    person_id=row.person_id,
                    transfer_ids=(row.last_transfer_id,),
                    figures={
                        "cash": row.cash,
                        "allowance": row.allowance,
                        "period_index": row.period_index,
                    },
                    suggested_action=SuggestedAction.CONTACT_HOLDER,
                )
            )
        return hits
