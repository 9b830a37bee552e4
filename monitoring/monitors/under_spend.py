"""Under-spend or no spend: a sign that needs may not be being met. Routed to a review,
never to recovery. No flag while the person is (or was, in the period looked at) in
hospital or on respite, or after they have died."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from monitoring.dates import london_date, period_start
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, pounds
from monitoring.repositories import plans as repo


class UnderSpendMonitor:
    name: ClassVar[str] = "under_spend"
    title: ClassVar[str] = "Under-spend or no spend (possible unmet need)"
    family: ClassVar[str] = "needs"
    description: ClassVar[str] = (
        "Spend well below the budget over recent periods, or no spend at all for some "
        "weeks: the person's needs may not be being met. Suggests a review, never a "
        "clawback."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        hits: list[Hit] = []
        low = repo.low_spend(ctx.session, ctx.today, s.under_spend_periods, s.under_spend_percent)
        cutoff = ctx.now - timedelta(weeks=s.no_spend_weeks)
        quiet = repo.no_recent_spend(ctx.session, ctx.today, cutoff, s.no_spend_weeks)
        earliest = min(
            [
                period_start(r.starts_on, r.period_weeks, r.period_index - s.under_spend_periods)
                for r in low
            ]
            + [london_date(cutoff)]
        )
        away = repo.stays_overlapping(
            ctx.session,
            [r.person_id for r in low] + [r.person_id for r in quiet],
            earliest,
            ctx.today,
        )
        for row in low:
            start = period_start(
                row.starts_on, row.period_weeks, row.period_index - s.under_spend_periods
            )
            if _away(away, row.person_id, start):
                continue
            budget = row.budget_per_period * s.under_spend_periods
            hits.append(
                Hit(
                    rule="under_spend.low_spend",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"period:{row.period_index - 1}",
                    severity=Severity.LOW,
                    title="Spending well below the plan",
                    explanation=(
                        f"{pounds(row.spent)} was spent over the last "
                        f"{s.under_spend_periods} plan periods (from {long_date(start)}), "
                        f"against a budget of {pounds(budget)} for them: less than "
                        f"{s.under_spend_percent}%. The person's needs may not be being met; "
                        f"a review with them is suggested."
                    ),
                    person_id=row.person_id,
                    figures={"spent": row.spent, "budget": budget, "from": start.isoformat()},
                    suggested_action=SuggestedAction.REVIEW,
                )
            )
        for row in quiet:
            if _away(away, row.person_id, london_date(cutoff)):
                continue
            since = (
                f"since {long_date(london_date(row.last_spend_at))}"
                if row.last_spend_at
                else f"since the plan started on {long_date(row.starts_on)}"
            )
            hits.append(
                Hit(
                    rule="under_spend.no_spend",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"since:{_moment(row.last_spend_at)}",
                    severity=Severity.MEDIUM,
                    title=f"No spending for {s.no_spend_weeks} weeks or more",
                    explanation=(
                        f"Nothing has been spent from the budget {since}. The person may not "
                        f"be getting the care and support in their plan; a check with them "
                        f"and a review are suggested."
                    ),
                    person_id=row.person_id,
                    figures={"no_spend_weeks": s.no_spend_weeks},
                    suggested_action=SuggestedAction.REVIEW,
                )
            )
        return hits


def _moment(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "start"


def _away(away: dict[int, list[Any]], person_id: int, start: date) -> bool:
    """In hospital or on respite at some point since ``start`` (stays were fetched for
    the widest window, so check each against this one)."""
    for stay in away.get(person_id, []):
        ends_on = getattr(stay, "ends_on", None)
        if ends_on is None or ends_on >= start:
            return True
    return False
