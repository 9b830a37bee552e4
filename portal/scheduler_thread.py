"""The scheduler inside the web app's process, for ``dpledger serve --with-scheduler``
(``make demo``): the jobs of ``dpledger scheduler`` (monitors, scheduled loads, hold
expiry, notifications), under the same database lease, on a background thread with its
own engine. A ``dpledger scheduler`` elsewhere and this one never both run jobs: whoever
holds the lease does. Production runs ``dpledger scheduler`` on its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from ledger.clock import Clock, SystemClock
from ledger.db import make_engine, make_session_factory
from monitoring.commands import configured_jobs
from monitoring.scheduler import Job, JobRunner, Lease, build, new_holder_id


@dataclass
class RunningScheduler:
    holder: str
    lease: Lease
    scheduler: Any  # APScheduler's, which ships no types
    thread: threading.Thread
    engine: Engine

    def stop(self) -> None:
        """Let running jobs finish, give up the lease, close the connections."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.thread.join(timeout=30)
        self.lease.release()
        self.engine.dispose()


def start_scheduler_thread(
    *,
    database_url: str | None = None,
    clock: Clock | None = None,
    jobs: list[Job] | None = None,
    renew_seconds: float = 10.0,
    lease_seconds: int = 30,
) -> RunningScheduler:
    """Start the scheduler on a daemon thread; ``stop`` it when the app stops."""
    clock = clock or SystemClock()
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    if jobs is None:
        # The same jobs as `dpledger scheduler`, over what the composition root
        # (portal/cli.py) configured: card provider, command retry, inbox replay.
        jobs = configured_jobs()
    lease = Lease(factory, clock, new_holder_id(), ttl=timedelta(seconds=lease_seconds))
    scheduler = build(JobRunner(factory, clock, lease), jobs, renew_seconds=renew_seconds)
    thread = threading.Thread(target=scheduler.start, name="dpledger-scheduler", daemon=True)
    thread.start()
    return RunningScheduler(lease.holder, lease, scheduler, thread, engine)
