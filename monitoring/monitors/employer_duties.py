"""Employer duties: a person who employs a personal assistant must pay HMRC (PAYE) and
hold employer's liability insurance, renewed every year. Monitoring goes beyond money
(statutory guidance 12.4): a plan with a PA and no recent payment of either is flagged."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from ledger.models import PlanCategory
from monitoring.dates import start_of_day
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext
from monitoring.repositories import plans as repo

DUTIES = (
    (
        "paye_missing",
        PlanCategory.HMRC_PAYE,
        ("hmrc",),
        ("9311",),
        "paye",
        "No PAYE payment to HMRC",
        "No payment to HMRC for PAYE has been made from the budget in the last {days} days, "
        "although the plan pays a personal assistant. An employer must pay their PA's tax "
        "and National Insurance to HMRC (monthly, or quarterly for small employers).",
    ),
    (
        "el_insurance_missing",
        PlanCategory.EMPLOYERS_LIABILITY_INSURANCE,
        ("insurance",),
        ("6300",),
        "el_insurance",
        "No employer's liability insurance payment",
        "No payment for employer's liability insurance has been made from the budget in the "
        "last {days} days, although the plan pays a personal assistant. An employer must "
        "hold this insurance by law and renew it every year.",
    ),
)


class EmployerDutiesMonitor:
    name: ClassVar[str] = "employer_duties"
    title: ClassVar[str] = "Employer duties (PAYE, employer's liability insurance)"
    family: ClassVar[str] = "employer duties"
    description: ClassVar[str] = (
        "Plans that employ a personal assistant with no PAYE payment to HMRC within a "
        "quarter plus the payment deadline, or no employer's liability insurance payment "
        "within a year plus a month."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        hits = []
        for rule, category, words, mccs, prefix, title, text in DUTIES:
            interval = getattr(s, f"{prefix}_interval_days")
            grace = getattr(s, f"{prefix}_grace_days")
            days = interval + grace
            started = days if prefix == "paye" else grace
            rows = repo.employers_without_payment(
                ctx.session,
                ctx.today,
                started_days=started,
                cutoff=start_of_day(ctx.today - timedelta(days=days)),
                line_category=category,
                payee_words=words,
                mccs=mccs,
            )
            for row in rows:
                hits.append(
                    Hit(
                        rule=f"employer_duties.{rule}",
                        subject_type="plan",
                        subject_id=row.plan_id,
                        evidence_key=f"period:{row.period_index}",
                        severity=Severity.MEDIUM,
                        title=title,
                        explanation=text.format(days=days),
                        person_id=row.person_id,
                        figures={"days": days},
                        suggested_action=SuggestedAction.CONTACT_HOLDER,
                    )
                )
        return hits
