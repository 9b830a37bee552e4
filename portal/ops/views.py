"""``GET /health`` and ``GET /metrics``: for load balancers, orchestrators and Prometheus.

Neither needs a sign-in. ``/metrics`` takes a bearer token when ``METRICS_TOKEN`` is set,
and in production it is closed until one is.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.orm import Session, sessionmaker

from monitoring.repositories.scheduling import database_now
from portal.app import clock
from portal.ops.metrics import Family, Sample, render, timestamp
from portal.repositories import operations as repo

log = logging.getLogger(__name__)

ops_pages = Blueprint("ops", __name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def _sessions() -> sessionmaker[Session]:
    found: sessionmaker[Session] = current_app.extensions["dpledger.sessions"]
    return found


@ops_pages.get("/health")
def health() -> tuple[Response, int]:
    """The database answers (else 503, ``down``); a scheduler holds an unexpired lease
    (else 200, ``degraded``: the web pages work, scheduled jobs are not running).

    The lease is reckoned in the database's time, as the schedulers reckon it
    (``monitoring.scheduler.Lease``), never this machine's clock: a web machine whose
    clock is a minute out must not call a live scheduler dead, or a dead one live."""
    try:
        with _sessions()() as session:
            repo.ping(session)
            lease = repo.scheduler_lease(session)
            now = database_now(session)
    except Exception as error:
        log.warning("health: the database did not answer: %s", type(error).__name__)
        body: dict[str, Any] = {
            "status": "down",
            "database": "unreachable",
            "scheduler": {"status": "unknown"},
        }
        return jsonify(body), 503
    scheduler: dict[str, Any]
    if lease is not None and lease.holder and lease.expires_at > now:
        scheduler = {
            "status": "ok",
            "holder": lease.holder,
            "term": lease.term,
            "expires_at": lease.expires_at.isoformat(),
        }
    else:
        scheduler = {"status": "no scheduler"}
        if lease is not None and lease.holder:
            scheduler["last_holder"] = lease.holder
            scheduler["expired_at"] = lease.expires_at.isoformat()
    body = {
        "status": "ok" if scheduler["status"] == "ok" else "degraded",
        "database": "ok",
        "scheduler": scheduler,
    }
    return jsonify(body), 200


@ops_pages.get("/metrics")
def metrics() -> Response:
    refused = _refuse_without_token()
    if refused is not None:
        return refused
    from portal.ops import request_metrics

    families = _database_families()
    text = render(families, request_metrics(current_app).lines())
    return Response(text, status=200, content_type=PROMETHEUS_TEXT)


def _refuse_without_token() -> Response | None:
    token: str = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        if current_app.config.get("ENV_NAME") == "production":
            return Response("metrics are closed: set METRICS_TOKEN\n", 403, mimetype="text/plain")
        return None
    given = request.headers.get("Authorization", "")
    scheme, _, credential = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode(), token.encode()
    ):
        return None
    return Response(
        "a bearer token is required\n",
        401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


def _database_families() -> list[Family]:
    """The figures read from the database at scrape time."""
    try:
        with _sessions()() as session:
            inbox = repo.inbox_counts(session)
            runs = repo.monitor_run_stats(session)
            lease = repo.scheduler_lease(session)
            jobs = repo.scheduler_jobs(session)
            database_time = database_now(session)
    except Exception as error:
        log.warning("metrics: the database did not answer: %s", type(error).__name__)
        return [_up(0)]
    # Events are stamped by the web app's clock when they arrive; the lease is in the
    # database's time (see ``health``).
    now = clock().now()
    backlog_age = (
        (now - inbox.oldest_received_at).total_seconds() if inbox.oldest_received_at else 0
    )
    live = lease is not None and bool(lease.holder) and lease.expires_at > database_time
    by_monitor = [(r, (("monitor", r.monitor),)) for r in runs]
    return [
        _up(1),
        Family(
            "dpledger_inbox_backlog_events",
            "gauge",
            "Provider events received but not yet applied.",
            [Sample(inbox.received)],
        ),
        Family(
            "dpledger_inbox_backlog_oldest_age_seconds",
            "gauge",
            "Age of the oldest event received but not yet applied (0 when none).",
            [Sample(max(backlog_age, 0.0))],
        ),
        Family(
            "dpledger_inbox_parked_events",
            "gauge",
            "Provider events that could not be applied and wait for a replay.",
            [Sample(inbox.parked)],
        ),
        Family(
            "dpledger_monitor_runs_total",
            "counter",
            "Monitor runs recorded, per monitor.",
            [Sample(r.runs, pairs) for r, pairs in by_monitor],
        ),
        Family(
            "dpledger_monitor_run_duration_seconds",
            "summary",
            "How long monitor runs took, per monitor.",
            parts=[
                ("_sum", [Sample(r.seconds_total, pairs) for r, pairs in by_monitor]),
                ("_count", [Sample(r.runs, pairs) for r, pairs in by_monitor]),
            ],
        ),
        Family(
            "dpledger_monitor_run_duration_max_seconds",
            "gauge",
            "The longest run of each monitor.",
            [Sample(r.seconds_max, pairs) for r, pairs in by_monitor],
        ),
        Family(
            "dpledger_monitor_flags_raised_total",
            "counter",
            "Flags raised by monitor runs, per monitor.",
            [Sample(r.flags_raised, pairs) for r, pairs in by_monitor],
        ),
        Family(
            "dpledger_monitor_last_run_timestamp_seconds",
            "gauge",
            "When each monitor's last run finished (Unix time).",
            [Sample(timestamp(r.last_finished_at), pairs) for r, pairs in by_monitor],
        ),
        Family(
            "dpledger_scheduler_lease_held",
            "gauge",
            "1 with the holder's name when a scheduler holds an unexpired lease, else 0.",
            [Sample(1 if live else 0, (("holder", lease.holder if live and lease else ""),))],
        ),
        Family(
            "dpledger_scheduler_lease_expires_timestamp_seconds",
            "gauge",
            "When the scheduler lease expires unless renewed (Unix time; 0 when none).",
            [Sample(timestamp(lease.expires_at) if lease else 0.0)],
        ),
        *_job_families(jobs),
    ]


def _job_families(jobs: list[repo.JobStats]) -> list[Family]:
    """Scheduled jobs (loads, hold expiry, notifications, provider commands, the inbox
    replay, each monitor), from their lock rows, whichever scheduler ran them."""
    by_job = [(j, (("job", j.job),)) for j in jobs]
    return [
        Family(
            "dpledger_scheduler_job_runs_total",
            "counter",
            "Runs of each scheduled job started, by any scheduler.",
            [Sample(j.runs, pairs) for j, pairs in by_job],
        ),
        Family(
            "dpledger_scheduler_job_last_finished_timestamp_seconds",
            "gauge",
            "When each job's last run ended (Unix time; 0 before the first).",
            [Sample(timestamp(j.last_finished_at), pairs) for j, pairs in by_job],
        ),
        Family(
            "dpledger_scheduler_job_last_run_ok",
            "gauge",
            "1 when the job's last run succeeded, 0 when it failed or was rolled back.",
            [Sample(1 if j.last_ok else 0, pairs) for j, pairs in by_job if j.last_ok is not None],
        ),
    ]


def _up(value: int) -> Family:
    return Family(
        "dpledger_database_up",
        "gauge",
        "1 when the database answered this scrape.",
        [Sample(value)],
    )
