"""Reviews due or overdue: a plan's review date is near or has passed, or an unplanned
review an officer asked for is past its due date."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date
from monitoring.repositories import plans as repo


class ReviewDueMonitor:
    name: ClassVar[str] = "review_due"
    title: ClassVar[str] = "Review due or overdue"
    family: ClassVar[str] = "reviews"
    description: ClassVar[str] = (
        "A plan's review date falls within 28 days (by default) or has passed; an "
        "unplanned review is past its due date."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        today = ctx.today
        hits = []
        for row in repo.reviews_due(ctx.session, today + timedelta(days=s.review_due_soon_days)):
            late = (today - row.review_date).days
            if late < 0:
                severity, stage = Severity.LOW, "due"
                text = f"The plan's review is due on {long_date(row.review_date)}."
            elif late < s.review_overdue_high_days:
                severity, stage = Severity.MEDIUM, "overdue"
                text = (
                    f"The plan's review was due on {long_date(row.review_date)} ({late} days ago)."
                )
            else:
                severity, stage = Severity.HIGH, "long_overdue"
                text = (
                    f"The plan's review was due on {long_date(row.review_date)}, {late} days "
                    f"ago. Plans should be reviewed at least every 12 months."
                )
            hits.append(
                Hit(
                    rule="review_due.plan_review",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"{row.review_date.isoformat()}:{stage}",
                    severity=severity,
                    title="Plan review " + stage.replace("_", " "),
                    explanation=text,
                    person_id=row.person_id,
                    figures={"review_date": row.review_date.isoformat(), "days_late": max(late, 0)},
                    suggested_action=SuggestedAction.REVIEW,
                )
            )
        for request in repo.requested_reviews_overdue(ctx.session, today):
            hits.append(
                Hit(
                    rule="review_due.requested_review",
                    subject_type="plan",
                    subject_id=request.plan_id,
                    evidence_key=f"request:{request.id}",
                    severity=Severity.MEDIUM,
                    title="Unplanned review overdue",
                    explanation=(
                        "An unplanned review asked for on "
                        f"{long_date(request.requested_at.date())} "
                        f"was due by {long_date(request.due_by)} and has not been decided."
                    ),
                    person_id=request.person_id,
                    figures={"review_request_id": request.id},
                    suggested_action=SuggestedAction.REVIEW,
                )
            )
        return hits
