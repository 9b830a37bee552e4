"""``dpledger serve --with-scheduler`` (``make demo``): the scheduler's jobs run on a
thread of the web app's process, under the database lease, and give it up on stop."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from monitoring.models import MonitorRun
from monitoring.monitors import ALL_MONITORS
from monitoring.repositories.scheduling import current_lease
from portal.scheduler_thread import start_scheduler_thread


def _state(sessions: sessionmaker[Session]) -> tuple[str | None, int]:
    with sessions() as session:
        lease = current_lease(session)
        runs = session.execute(select(func.count()).select_from(MonitorRun)).scalar_one()
        return (lease.holder if lease else None), int(runs)


def test_the_scheduler_runs_every_monitor_in_a_thread_under_the_lease(
    engine: Engine, committed: sessionmaker[Session]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    running = start_scheduler_thread(database_url=url, renew_seconds=0.2, lease_seconds=5)
    try:
        assert running.thread.is_alive()
        holder, runs = _state(committed)
        deadline = time.monotonic() + 30
        while (
            holder != running.holder or runs < len(ALL_MONITORS)
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
            holder, runs = _state(committed)
        assert holder == running.holder
        assert runs >= len(ALL_MONITORS)
    finally:
        running.stop()
    assert not running.thread.is_alive()
    with committed() as session:
        lease = current_lease(session)
        assert lease is not None and lease.expires_at <= datetime.now(UTC)  # given up


def test_serve_offers_the_scheduler_in_the_same_process() -> None:
    from click.testing import CliRunner

    from portal.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--with-scheduler" in result.output
