"""Possible financial abuse: payments to someone recorded as a family member sharing the
person's household, without an agreed exception (a plan line naming them as a payee)."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, pounds
from monitoring.repositories import abuse as repo


class HouseholdPayeeMonitor:
    name: ClassVar[str] = "household_payee"
    title: ClassVar[str] = "Payment to a household family member"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "A payment to a carer recorded as sharing the person's household, when no plan "
        "line agrees them as a payee (paying a close relative living in the same household "
        "needs the council's agreement)."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        hits = []
        for row in repo.payments_to_household(ctx.session, ctx.window):
            hits.append(
                Hit(
                    rule="household_payee.not_agreed",
                    subject_type="plan",
                    subject_id=row.plan_id,
                    evidence_key=f"transfer:{row.transfer_id}",
                    severity=Severity.HIGH,
                    title="Payment to a family member in the household",
                    explanation=(
                        f"{pounds(row.amount)} was paid to {row.carer_name} (the person's "
                        f"{row.relationship}, recorded as sharing their household) on "
                        f"{long_date(row.day)}. The plan does not agree them as a payee."
                    ),
                    person_id=row.person_id,
                    transfer_ids=(row.transfer_id,),
                    figures={"amount": row.amount, "payee": row.carer_name},
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
