"""Missed client contributions: what the person was expected to pay into the card in
each plan period against what arrived, checked once the period (and a grace period) is
over. Consecutive misses raise the severity; the holder and the officer are told."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, period_words, pounds
from monitoring.repositories import plans as repo

LOOK_BACK = 3  # periods examined each run: a run that was missed catches up


class MissedContributionMonitor:
    name: ClassVar[str] = "missed_contribution"
    title: ClassVar[str] = "Missed client contribution"
    family: ClassVar[str] = "contributions"
    description: ClassVar[str] = (
        "A plan period ended (plus a grace period) without the person's client "
        "contribution being paid in full. Consecutive misses raise the severity."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        settings = ctx.settings
        if not settings.loads_net_of_contribution:
            return []  # the council invoices contributions: nothing is paid into the card
        check_day = ctx.today - timedelta(days=settings.contribution_grace_days)
        hits = []
        for row in repo.contribution_periods(ctx.session, check_day, LOOK_BACK):
            received = [getattr(row, f"received_{n}") for n in range(LOOK_BACK)]
            missed = [r < row.expected for r in received]  # index 0 is the latest period
            for n in reversed(range(LOOK_BACK)):
                index = row.last_index - n
                if index < 0 or not missed[n]:
                    continue
                run = 0
                while n + run < LOOK_BACK and row.last_index - n - run >= 0 and missed[n + run]:
                    run += 1
                severity = (Severity.LOW, Severity.MEDIUM, Severity.HIGH)[min(run, 3) - 1]
                period = period_words(row.starts_on, row.period_weeks, index)
                short = row.expected - received[n]
                hits.append(
                    Hit(
                        rule="missed_contribution.period",
                        subject_type="plan",
                        subject_id=row.plan_id,
                        evidence_key=f"period:{index}",
                        severity=severity,
                        title="Client contribution not received"
                        + (f" ({run} periods running)" if run > 1 else ""),
                        explanation=(
                            f"{pounds(received[n])} of the expected contribution of "
                            f"{pounds(row.expected)} was paid in for {period}, "
                            f"{pounds(short)} short."
                            + (f" This is {run} periods in a row." if run > 1 else "")
                        ),
                        person_id=row.person_id,
                        figures={
                            "expected": row.expected,
                            "received": received[n],
                            "period_index": index,
                            "consecutive": run,
                        },
                        suggested_action=SuggestedAction.CONTACT_HOLDER,
                        holder_message=_holder_message(row.expected, received[n], period),
                        notify_officer=True,
                    )
                )
        return hits


def _holder_message(expected: int, received: int, period: str) -> tuple[str, str]:
    short = expected - received
    body = (
        "Hello,\n\n"
        f"Your care and support plan includes a contribution of {pounds(expected)} from you "
        f"for {period}. We have received {pounds(received)}, so {pounds(short)} is still to "
        "be paid onto your card.\n\n"
        "If you have already paid it, thank you, and please ignore this message: payments "
        "can take a few days to reach us. If paying is difficult at the moment, please get "
        "in touch with us. We can talk it through with you, and it will not affect the care "
        "and support you receive while we do.\n\n"
        "With best wishes,\nThe direct payments team"
    )
    return ("About your contribution to your care and support", body)
