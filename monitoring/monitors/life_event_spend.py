"""Possible financial abuse: card spend, cash or a bank payment after the person has died
(critical), or card spend during a hospital stay beyond its grace period.

A death or admission is often recorded days after it happened. Besides the new transfers,
each run looks again at every transfer of the people whose death or admission was recorded
since its last run (a second watermark, on life-event ids), whatever the transfer
watermark says."""

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
        "Card spend, cash or bank payments after the person's recorded date of death "
        "(critical), or card spend while they are in hospital beyond the grace period after "
        "admission, including spend before the death or admission was recorded."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        grace = ctx.settings.hospital_spend_grace_days
        recorded = repo.life_events_recorded_after(ctx.session, ctx.last_record_id)
        ctx.record_hi = max([ctx.record_hi, *(event.id for event in recorded)])
        rows = repo.spend_after_death_or_in_hospital(
            ctx.session,
            ctx.window,
            grace,
            rescan_people=[event.person_id for event in recorded],
        )
        hits = []
        for row in rows:
            if row.card_id is None:  # a bank payment from the budget
                method = row.code.value.replace("_", " ")
                to = row.payee or row.merchant_name or "a payee"
                paid = f"{pounds(row.amount)} was paid to {to} by {method} on {long_date(row.day)}"
                subject = ("account", row.budget_account_id)
            else:
                where = row.merchant_name or "a merchant"
                paid = f"{pounds(row.amount)} was spent at {where} on {long_date(row.day)}"
                subject = ("card", row.card_id)
            if row.date_of_death is not None and row.day > row.date_of_death:
                hits.append(
                    Hit(
                        rule="life_event_spend.after_death",
                        subject_type=subject[0],
                        subject_id=subject[1],
                        evidence_key=f"transfer:{row.transfer_id}",
                        severity=Severity.CRITICAL,
                        title=(
                            "Card used after the person's death"
                            if row.card_id is not None
                            else "Payment made after the person's death"
                        ),
                        explanation=(
                            f"{paid}, after the person's death on "
                            f"{long_date(row.date_of_death)}. The card should be suspended, "
                            f"regular payments stopped, and the spending looked into."
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
                    subject_type=subject[0],
                    subject_id=subject[1],
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
