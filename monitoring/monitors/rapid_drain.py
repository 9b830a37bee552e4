"""Possible financial abuse: a budget (or pot) drained soon after a load."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from monitoring.dates import london_date
from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, long_date, pounds
from monitoring.repositories import abuse as repo

FIRST_RUN_LOOK_BACK = timedelta(days=28)


class RapidDrainMonitor:
    name: ClassVar[str] = "rapid_drain"
    title: ClassVar[str] = "Rapid drain after a load"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "More than 80% of a load (by default) spent or withdrawn within 48 hours of it, "
        "not counting bank payments to payees the plan agrees."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        hours = s.rapid_drain_hours
        # Loads whose window was still open at the last run may have drained since.
        loaded_from = ctx.looking_back_to(FIRST_RUN_LOOK_BACK) - timedelta(hours=hours)
        # Loads written since then have ids above this monitor's watermark at its first run
        # in that time (an hour's margin for clocks); no floor on a first run or --since.
        floor = None
        if ctx.since is None and ctx.last_run_at is not None:
            floor = repo.transfer_id_floor(ctx.session, self.name, loaded_from - timedelta(hours=1))
        hits = []
        rows = repo.drained_loads(
            ctx.session, loaded_from, ctx.now, hours, s.rapid_drain_percent, id_floor=floor or 0
        )
        for row in rows:
            share = row.drained * 100 // row.amount
            hits.append(
                Hit(
                    rule="rapid_drain.after_load",
                    subject_type="account",
                    subject_id=row.account_id,
                    evidence_key=f"load:{row.load_id}",
                    severity=Severity.HIGH,
                    title=f"{share}% of a load spent within {hours} hours",
                    explanation=(
                        f"{pounds(row.amount)} was loaded on "
                        f"{long_date(london_date(row.effective_at))} and {pounds(row.drained)} "
                        f"({share}%) left the account within {hours} hours. This can be "
                        f"innocent (a large planned purchase), but it is also a sign that "
                        f"someone else may be using the money."
                    ),
                    person_id=row.person_id,
                    transfer_ids=(row.load_id,),
                    figures={"loaded": row.amount, "drained": row.drained, "hours": hours},
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
