"""Reconciliation breaks: the provider's closing balance for a card differs from the
ledger's (recorded by the statement import or a provider balance check)."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, pounds
from monitoring.repositories import records as repo


class ReconciliationBreakMonitor:
    name: ClassVar[str] = "reconciliation_break"
    title: ClassVar[str] = "Reconciliation break"
    family: ClassVar[str] = "reconciliation"
    description: ClassVar[str] = (
        "The provider's balance for a card differs from the ledger's; £100 or more (by "
        "default) is high severity."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        high = ctx.settings.reconciliation_high_pence
        hits = []
        for row in repo.breaks_after(ctx.session, ctx.last_record_id, ctx.since):
            ctx.record_hi = max(ctx.record_hi, row.id)
            difference = row.provider_balance - row.ledger_balance
            hits.append(
                Hit(
                    rule="reconciliation_break.balance_differs",
                    subject_type="card",
                    subject_id=row.card_id,
                    evidence_key=f"break:{row.id}",
                    severity=Severity.HIGH if abs(difference) >= high else Severity.MEDIUM,
                    title="Provider and ledger balances differ",
                    explanation=(
                        f"On {long_date(row.as_of)} the provider ({row.source}) reported "
                        f"{pounds(row.provider_balance)} for card ending {row.last4}; the "
                        f"ledger shows {pounds(row.ledger_balance)}, a difference of "
                        f"{pounds(difference)}." + (f" {row.detail}" if row.detail else "")
                    ),
                    person_id=row.person_id,
                    figures={
                        "provider_balance": row.provider_balance,
                        "ledger_balance": row.ledger_balance,
                        "difference": difference,
                    },
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
