"""Missed client contributions: what the person was expected to pay into the card up to
the end of each plan period, against everything paid in by the end of that period plus a
grace period, whichever period the money arrived in. A late standing order, or a missed
month caught up later, clears the shortfall; a period is missed only while the running
shortfall lasts. Consecutive misses raise the severity; the holder and the officer are
told."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from monitoring.dates import london_date, period_start
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, period_words, pounds
from monitoring.repositories import plans as repo

LOOK_BACK = 3  # periods examined each run: a run that was missed catches up
THRESHOLDS = ("contribution_grace_days", "loads_net_of_contribution")


class MissedContributionMonitor:
    name: ClassVar[str] = "missed_contribution"
    title: ClassVar[str] = "Missed client contribution"
    family: ClassVar[str] = "contributions"
    description: ClassVar[str] = (
        "By the end of a plan period plus a grace period, less than the person's client "
        "contributions up to that period had been paid in (late payments count). "
        "Consecutive misses raise the severity."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        settings = ctx.settings
        if not settings.loads_net_of_contribution:
            return []  # the council invoices contributions: nothing is paid into the card
        grace = settings.contribution_grace_days
        # A first run, --since, or a change to the settings looks at every plan; otherwise
        # only plans a new deadline, payment or return may have changed (see the query).
        incremental = ctx.only_what_changed(THRESHOLDS)
        rows = repo.contribution_periods(
            ctx.session,
            ctx.today,
            grace,
            LOOK_BACK,
            changed=ctx.window if incremental else None,
            last_checked_on=london_date(ctx.last_run_at) if ctx.last_run_at else None,
            plans_after=ctx.last_record_id,
        )
        ctx.record_hi = max(ctx.record_hi, repo.last_plan_id(ctx.session))
        hits = []
        for row in rows:
            # index n is period last_index - n: the running totals up to each period
            expected = [(row.last_index - n + 1) * row.per_period for n in range(LOOK_BACK)]
            received = [getattr(row, f"received_{n}") for n in range(LOOK_BACK)]
            missed = [received[n] < expected[n] for n in range(LOOK_BACK)]
            for n in reversed(range(LOOK_BACK)):
                index = row.last_index - n
                if index < 0 or not missed[n]:
                    continue
                run = 0
                while n + run < LOOK_BACK and row.last_index - n - run >= 0 and missed[n + run]:
                    run += 1
                severity = (Severity.LOW, Severity.MEDIUM, Severity.HIGH)[min(run, 3) - 1]
                period = period_words(row.starts_on, row.period_weeks, index)
                deadline = period_start(row.starts_on, row.period_weeks, index + 1) + timedelta(
                    days=grace - 1
                )
                short = expected[n] - received[n]
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
                            f"{pounds(expected[n])} up to the end of {period} had been paid "
                            f"in by {long_date(deadline)}, {pounds(short)} short."
                            + (f" This is {run} periods in a row." if run > 1 else "")
                        ),
                        person_id=row.person_id,
                        figures={
                            "expected": expected[n],
                            "received": received[n],
                            "short": short,
                            "per_period": row.per_period,
                            "period_index": index,
                            "paid_by": deadline.isoformat(),
                            "consecutive": run,
                        },
                        suggested_action=SuggestedAction.CONTACT_HOLDER,
                        holder_message=_holder_message(short, period, deadline),
                        notify_officer=True,
                    )
                )
        return hits


def _holder_message(short: int, period: str, deadline: date) -> tuple[str, str]:
    body = (
        "Hello,\n\n"
        "Your care and support plan includes a contribution from you each period. Up to the "
        f"end of {period}, {pounds(short)} of it had not reached your card by "
        f"{long_date(deadline)}, so {pounds(short)} is still to be paid onto your card.\n\n"
        "If you have already paid it, thank you, and please ignore this message: payments "
        "can take a few days to reach us. If paying is difficult at the moment, please get "
        "in touch with us. We can talk it through with you, and it will not affect the care "
        "and support you receive while we do.\n\n"
        "With best wishes,\nThe direct payments team"
    )
    return ("About your contribution to your care and support", body)
