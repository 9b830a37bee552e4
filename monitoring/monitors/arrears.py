"""Arrears: the provider settled a payment beyond the funds, and the shortfall sits in the
budget's arrears account. Always critical: the card has spent money it did not have."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, pounds
from monitoring.repositories import records as repo


class ArrearsMonitor:
    name: ClassVar[str] = "arrears"
    title: ClassVar[str] = "Arrears: payment settled beyond the funds"
    family: ClassVar[str] = "reconciliation"
    description: ClassVar[str] = (
        "A budget's arrears account is below zero: the provider settled more than the "
        "budget held. Each new shortfall adds evidence (only accounts with a new one are "
        "looked at)."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        return [
            Hit(
                rule="arrears.shortfall",
                subject_type="account",
                subject_id=row.budget_account_id,
                evidence_key=f"transfer:{row.latest_transfer_id}",
                severity=Severity.CRITICAL,
                title=f"Arrears of {pounds(row.owed)}",
                explanation=(
                    f"The card provider has settled {pounds(row.owed)} more than the budget "
                    f"held (the latest shortfall is transfer {row.latest_transfer_id}). The "
                    f"arrears will be repaid from the next funds, but how it happened needs "
                    f"looking into."
                ),
                person_id=row.person_id,
                transfer_ids=(row.latest_transfer_id,),
                figures={"owed": row.owed},
                suggested_action=SuggestedAction.CONTACT_HOLDER,
            )
            for row in repo.arrears_owed(ctx.session, ctx.window)
        ]
