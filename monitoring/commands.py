"""``dpledger monitors …`` and ``dpledger scheduler``. Each command owns its transaction
(one per command; the scheduler, one per job).

Telling the card provider goes through ``ledger.ports.CardProviderCommands``. Until the
composition root calls ``use_card_provider`` with the adapters' implementation, a stand-in
that only logs is used, and the scheduler says so when it starts. It should also call
``use_provider_command_retry`` with the adapters' outbound commands, so the scheduler's
``provider_commands`` job sends again the commands the provider failed to carry out.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.clock import SystemClock
from ledger.db import make_engine, make_session_factory, unit_of_work
from ledger.ports import CardProviderCommands
from monitoring.models import Flag, MonitorWatermark
from monitoring.monitors import ALL_MONITORS
from monitoring.notifications import Sender, sender_from_environment
from monitoring.provider import LoggingCardProvider, UnfinishedCommands
from monitoring.repositories import flags as flags_repo
from monitoring.runner import MonitorResult, run_all, run_monitor
from monitoring.scheduler import Job, default_jobs

ProviderFactory = Callable[[Session], CardProviderCommands]
RetryFactory = Callable[[Session], UnfinishedCommands]
_provider_factory: ProviderFactory | None = None
_retry_factory: RetryFactory | None = None


def use_card_provider(factory: ProviderFactory) -> None:
    """Called by the composition root with the adapters' implementation of the port."""
    global _provider_factory
    _provider_factory = factory


_extra_jobs: list[Job] = []


def use_jobs(jobs: list[Job]) -> None:
    """Called by the composition root with jobs of the other parts (the adapters' inbox
    replay, say), run by the scheduler beside monitoring's own."""
    known = {job.name for job in _extra_jobs}
    _extra_jobs.extend(job for job in jobs if job.name not in known)


def use_provider_command_retry(factory: RetryFactory) -> None:
    """Called by the composition root with ``session -> OutboundCommands`` (anything with
    ``retry_unfinished``), for the scheduler's ``provider_commands`` job."""
    global _retry_factory
    _retry_factory = factory


def configured_jobs(sender: Sender | None = None) -> list[Job]:
    """Every job of ``dpledger scheduler``: monitoring's own, over the card provider and
    command retry the composition root configured, and the jobs it added (``use_jobs``).
    The scheduler inside the web app (``dpledger serve --with-scheduler``) runs the same."""
    retry_for = _retry_for if _retry_factory is not None else None
    own = default_jobs(_provider_for, sender or sender_from_environment(), retry_for=retry_for)
    return own + _extra_jobs


def _retry_for(session: Session) -> UnfinishedCommands:
    if _retry_factory is None:
        raise RuntimeError("no card-provider commands to retry: use_provider_command_retry")
    return _retry_factory(session)


def _provider_for(session: Session) -> CardProviderCommands:
    if _provider_factory is None:
        return LoggingCardProvider()
    return _provider_factory(session)


@click.group("monitors")
def monitors_group() -> None:
    """Run the monitors and see what they found."""


@monitors_group.command("list")
def list_command() -> None:
    """List every monitor, when it last ran, and its open flags."""
    engine = make_engine()
    with unit_of_work(make_session_factory(engine)) as session:
        marks = {m.name: m for m in session.execute(select(MonitorWatermark)).scalars()}
        open_counts = dict(
            session.execute(
                select(Flag.monitor, func.count())
                .where(Flag.open_key.is_not(None))
                .group_by(Flag.monitor)
            ).all()
        )
    engine.dispose()
    for monitor in ALL_MONITORS:
        mark = marks.get(monitor.name)
        last = f"{mark.last_run_at:%Y-%m-%d %H:%M} UTC" if mark and mark.last_run_at else "never"
        click.echo(f"{monitor.name:22} {monitor.title}")
        opened = open_counts.get(monitor.name, 0)
        click.echo(f"{'':22} ({monitor.family}) last run: {last}; open flags: {opened}")
        click.echo(f"{'':22} {monitor.description}")


@monitors_group.command("run")
@click.argument("name")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Look again at everything effective from this date (YYYY-MM-DD).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be raised; change nothing.")
@click.option("--show", default=10, show_default=True, help="Hits to print per monitor.")
def run_command(name: str, since: datetime | None, dry_run: bool, show: int) -> None:
    """Run monitor NAME ("all" for every monitor) over what is new since its last run."""
    if name != "all" and name not in {m.name for m in ALL_MONITORS}:
        _unknown(name)
    since_day: date | None = since.date() if since else None
    engine = make_engine()
    clock = SystemClock()
    with unit_of_work(make_session_factory(engine)) as session:
        if name == "all":
            results = run_all(session, clock, since=since_day, dry_run=dry_run)
        else:
            results = [run_monitor(session, clock, name, since=since_day, dry_run=dry_run)]
    engine.dispose()
    for result in results:
        _print_result(result, show)
    if dry_run:
        click.echo("dry run: nothing was changed")


def _unknown(name: str) -> None:
    known = ", ".join(m.name for m in ALL_MONITORS)
    raise click.BadParameter(f"no monitor called {name!r}; there are: all, {known}")


def _print_result(result: MonitorResult, show: int) -> None:
    r = result.raised
    seen = (
        f"transfers {result.from_transfer_id + 1}-{result.to_transfer_id}"
        if result.to_transfer_id > result.from_transfer_id
        else "no new transfers"
    )
    click.echo(
        f"{result.monitor}: {seen}, {len(result.hits)} hits ({r.new_evidence} new: "
        f"{r.new_flags} new flags, {r.severity_raised} severity raised)"
    )
    for hit in result.hits[:show]:
        click.echo(f"  [{hit.severity.value}] {hit.title} ({hit.subject_type} {hit.subject_id})")
        click.echo(f"      {hit.explanation}")
    if len(result.hits) > show:
        click.echo(f"  ... and {len(result.hits) - show} more")


@monitors_group.command("flags")
@click.option("--monitor", default=None, help="Only this monitor's flags.")
def flags_command(monitor: str | None) -> None:
    """List open flags, most severe first."""
    engine = make_engine()
    with unit_of_work(make_session_factory(engine)) as session:
        flags = [f for f in flags_repo.queue(session, SystemClock().now(), include_snoozed=True)]
        if monitor:
            flags = [f for f in flags if f.monitor == monitor]
        for flag in flags:
            click.echo(
                f"#{flag.id} [{flag.severity.value}] {flag.monitor}: {flag.title} "
                f"({flag.subject_type} {flag.subject_id}, {flag.hits} hits, "
                f"due {flag.sla_due_at:%Y-%m-%d})"
            )
            click.echo(f"    {flag.explanation}")
    engine.dispose()
    click.echo(f"{len(flags)} open flags")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Take the lease, run every job once, and exit.")
@click.option("--holder", default=None, help="This scheduler's name (default: host:pid:random).")
@click.option(
    "--every",
    multiple=True,
    metavar="JOB=SECONDS",
    help='Run JOB at this interval ("monitors" for every monitor); repeatable.',
)
@click.option("--lease-seconds", default=30, show_default=True, help="How long the lease lasts.")
@click.option("--renew-seconds", default=10.0, show_default=True, help="How often it is renewed.")
@click.option("--jobs", "show_jobs", is_flag=True, help="List the jobs and their schedules.")
def scheduler_command(
    once: bool,
    holder: str | None,
    every: tuple[str, ...],
    lease_seconds: int,
    renew_seconds: float,
    show_jobs: bool,
) -> None:
    """Run scheduled jobs: the monitors, scheduled loads, hold expiry and notifications.

    Start one on each machine if you like: a lease in the database makes sure only one
    runs jobs at a time, and another takes over within a minute if it stops.
    """
    from monitoring.scheduler import JobRunner, Lease, build, new_holder_id

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if _provider_factory is None:
        click.echo("card provider: not configured, commands to the provider are only logged")
    sender = sender_from_environment()
    if not getattr(sender, "sends_mail", False):
        click.echo("notifications: no SMTP configured (DPLEDGER_SMTP_HOST), messages are logged")
    if _retry_factory is None:
        click.echo("provider commands: failed ones are not sent again (no retry configured)")
    jobs = _with_intervals(configured_jobs(sender), every)
    if show_jobs:
        for job in jobs:
            click.echo(f"{job.name:32} {_schedule_words(job)}")
        return
    engine = make_engine()
    factory = make_session_factory(engine)
    clock = SystemClock()
    lease = Lease(factory, clock, holder or new_holder_id(), ttl=timedelta(seconds=lease_seconds))
    runner = JobRunner(factory, clock, lease)
    if once:
        if not lease.renew():
            click.echo("another scheduler holds the lease; nothing run")
            return
        try:
            for job in jobs:
                outcome = runner.run(job)
                click.echo(f"{job.name}: {'ran' if outcome.ran else 'not run'} ({outcome.detail})")
        finally:
            lease.release()
            engine.dispose()
        return
    scheduler = build(runner, jobs, renew_seconds=renew_seconds)

    def stop(_signum: int, _frame: Any) -> None:
        # Let running jobs finish (and commit) before the lease is given up.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"scheduler {lease.holder} starting ({len(jobs)} jobs); Ctrl+C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lease.release()
        engine.dispose()
    sys.exit(0)


def _with_intervals(jobs: list[Job], every: tuple[str, ...]) -> list[Job]:
    intervals: dict[str, int] = {}
    for item in every:
        name, _, seconds = item.partition("=")
        if not seconds.isdigit() or int(seconds) <= 0:
            raise click.BadParameter(f"{item!r}: use JOB=SECONDS", param_hint="--every")
        intervals[name] = int(seconds)
    known = {job.name for job in jobs} | {"monitors"}
    for name in intervals:
        if name not in known:
            raise click.BadParameter(f"no job called {name!r}", param_hint="--every")
    out = []
    for job in jobs:
        interval = intervals.get(job.name)
        if interval is None and job.name.startswith("monitor:"):
            interval = intervals.get("monitors")
        if interval is not None:
            job = dataclasses.replace(job, every_seconds=interval, daily_at=None)
        out.append(job)
    return out


def _schedule_words(job: Job) -> str:
    if job.daily_at is not None:
        hour, minute = job.daily_at
        return f"daily at {hour:02d}:{minute:02d} London time"
    return f"every {job.every_seconds} s"
