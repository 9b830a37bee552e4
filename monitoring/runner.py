"""Running monitors: each run brings the period totals up to date, asks the monitor what
is new since its watermark, records the hits as flags, moves the watermark and logs the
run, all in the caller's transaction (the caller commits).

A dry run does the same inside a savepoint that is rolled back: it reports what would be
raised and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from ledger.clock import Clock
from monitoring import period_totals
from monitoring.dates import start_of_day, today
from monitoring.flags import Hit, RaiseResult, raise_flags
from monitoring.models import MonitorRun
from monitoring.monitors import ALL_MONITORS, by_name
from monitoring.monitors.base import Monitor, MonitorContext
from monitoring.repositories import spend as spend_repo
from monitoring.repositories import watermarks
from monitoring.repositories.spend import Window
from monitoring.settings import MonitoringSettings, load_settings


@dataclass
class MonitorResult:
    monitor: str
    from_transfer_id: int
    to_transfer_id: int
    dry_run: bool
    hits: list[Hit] = field(default_factory=list)
    raised: RaiseResult = field(default_factory=RaiseResult)


def run_monitor(
    session: Session,
    clock: Clock,
    monitor: Monitor | str,
    *,
    since: date | None = None,
    dry_run: bool = False,
    runner: str = "cli",
    settings: MonitoringSettings | None = None,
) -> MonitorResult:
    """Run one monitor over what is new since its last run (or, with ``since``, over
    everything effective from that date, recounting the period totals). Idempotent:
    hits already recorded raise nothing new."""
    if isinstance(monitor, str):
        monitor = by_name(monitor)
    if not dry_run:
        return _run(session, clock, monitor, since, False, runner, settings)
    savepoint = session.begin_nested()
    try:
        return _run(session, clock, monitor, since, True, runner, settings)
    finally:
        savepoint.rollback()


def run_all(
    session: Session,
    clock: Clock,
    *,
    since: date | None = None,
    dry_run: bool = False,
    runner: str = "cli",
    monitors: Sequence[Monitor] = ALL_MONITORS,
) -> list[MonitorResult]:
    settings = load_settings(session)
    return [
        run_monitor(
            session, clock, m, since=since, dry_run=dry_run, runner=runner, settings=settings
        )
        for m in monitors
    ]


def _run(
    session: Session,
    clock: Clock,
    monitor: Monitor,
    since: date | None,
    dry_run: bool,
    runner: str,
    settings: MonitoringSettings | None,
) -> MonitorResult:
    settings = settings or load_settings(session)
    started = clock.now()
    mark = watermarks.lock(session, monitor.name)
    hi = spend_repo.max_transfer_id(session)
    lo = mark.last_transfer_id
    period_totals.catch_up(session, hi)
    if since is not None:
        period_totals.rebuild_from(session, since, hi)
    ctx = MonitorContext(
        session=session,
        clock=clock,
        settings=settings,
        window=Window(lo, hi, start_of_day(since) if since is not None else None),
        since=since,
        today=today(clock),
        now=started,
        last_run_at=mark.last_run_at,
        totals_changed_after=(hi - 1) if since is not None else lo,
        last_record_id=0 if since is not None else mark.last_record_id,
    )
    ctx.record_hi = ctx.last_record_id
    hits = monitor.find(ctx)
    raised = raise_flags(session, clock, settings, monitor.name, hits)
    mark.last_transfer_id = max(lo, hi)
    mark.last_record_id = max(mark.last_record_id, ctx.record_hi)
    mark.last_run_at = started
    session.add(
        MonitorRun(
            monitor=monitor.name,
            runner=runner,
            started_at=started,
            finished_at=clock.now(),
            from_transfer_id=lo,
            to_transfer_id=hi,
            since=since.isoformat() if since else None,
            dry_run=dry_run,
            hits=len(hits),
            flags_raised=raised.new_flags,
            evidence_added=raised.new_evidence,
        )
    )
    session.flush()
    return MonitorResult(monitor.name, lo, hi, dry_run, hits, raised)
