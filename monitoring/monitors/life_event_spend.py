"""Possible financial abuse: card spend after the person has died (critical), or during a
hospital stay beyond its grace period."""

from __future__ import annotations

from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, pounds
from monitoring.repositories import abuse as repo


class LifeEventSpendMonitor:
    name: ClassVar[str] = "life_event_spend"
    title: ClassVar[str] = "Spend after death or during a hospital stay"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "Card spend or cash after the person's recorded date of death (critical), or while "
        "they are in hospital beyond the grace period after admission."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        grace = ctx.settings.hospital_spend_grace_days
        hits = []
        for row in repo.spend_after_death_or_in_hospital(ctx.session, ctx.window, grace):
            where = row.merchant_name or "a merchant"
            paid = f"{pounds(row.amount)} was spent at {where} on {long_date(row.day)}"
            if row.date_of_death is not None and row.day > row.date_of_death:
                hits.append(
                    Hit(
                        rule="life_event_spend.after_death",
                        subject_type="card",
                        subject_id=row.card_id,
                        evidence_key=f"transfer:{row.transfer_id}",
                        severity=Severity.CRITICAL,
                        title="Card used after the person's death",
                        explanation=(
                            f"{paid}, after the person's death on "
                            f"{long_date(row.date_of_death)}. The card should be suspended "
                            f"and the spending looked into."
                        ),
                        person_id=row.person_id,
                        transfer_ids=(row.transfer_id,),
                        figures={"amount": row.amount},
                        suggested_action=SuggestedAction.SUSPEND,
                    )
                )
                continue
            hits.append(
                Hit(
                    rule="life_event_spend.hospital_stay",
                    subject_type="card",
                    subject_id=row.card_id,
                    evidence_key=f"transfer:{row.transfer_id}",
                    severity=Severity.MEDIUM,
                    title="Card used during a hospital stay",
                    explanation=(
                        f"{paid}, while the person has been in hospital since "
                        f"{long_date(row.admitted_on)} (more than {grace} days). It may be "
                        f"for them (a carer buying things they need), or it may not."
                    ),
                    person_id=row.person_id,
                    transfer_ids=(row.transfer_id,),
                    figures={"amount": row.amount, "admitted_on": row.admitted_on.isoformat()},
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
