"""Possible financial abuse: repeated cash withdrawals at unusual hours."""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import ClassVar

from monitoring.flags import Hit
from monitoring.models import Severity, SuggestedAction
from monitoring.monitors.base import MonitorContext, pounds
from monitoring.repositories import abuse as repo


class UnusualHoursCashMonitor:
    name: ClassVar[str] = "unusual_hours_cash"
    title: ClassVar[str] = "Repeated cash at unusual hours"
    family: ClassVar[str] = "possible financial abuse"
    description: ClassVar[str] = (
        "Three or more cash withdrawals (by default) between midnight and 5am, London time, "
        "on one card within 28 days."
    )

    def find(self, ctx: MonitorContext) -> list[Hit]:
        s = ctx.settings
        start, end = s.unusual_hours_start, s.unusual_hours_end
        cards = repo.cards_with_new_unusual_cash(ctx.session, ctx.window, start, end)
        since = ctx.now - timedelta(days=s.unusual_hours_window_days)
        rows = repo.unusual_cash_since(ctx.session, cards, since, start, end)
        hits = []
        for card_id, group in groupby(rows, key=lambda r: r.card_id):
            found = list(group)
            if len(found) < s.unusual_hours_cash_count:
                continue
            total = sum(r.amount for r in found)
            hits.append(
                Hit(
                    rule="unusual_hours_cash.repeated",
                    subject_type="card",
                    subject_id=card_id,
                    evidence_key=f"upto:{found[-1].id}",
                    severity=Severity.HIGH,
                    title=f"{len(found)} cash withdrawals between {start}:00 and {end}:00",
                    explanation=(
                        f"{len(found)} cash withdrawals totalling {pounds(total)} were made "
                        f"between {start}:00 and {end}:00 (London time) in the last "
                        f"{s.unusual_hours_window_days} days."
                    ),
                    person_id=found[0].person_id,
                    transfer_ids=tuple(r.id for r in found),
                    figures={"withdrawals": len(found), "total": total},
                    suggested_action=SuggestedAction.CHECK,
                )
            )
        return hits
