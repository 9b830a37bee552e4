"""GET /metrics: Prometheus text with request counters and latencies (this process) and
the inbox, monitor runs and scheduler lease (the database, read at scrape time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from adapters.canonical import EventKind
from adapters.simulated import SimulatedProvider
from ledger.clock import Clock, SystemClock
from monitoring.repositories.scheduling import database_now
from monitoring.runner import run_monitor
from monitoring.scheduler import Job, JobRunner, Lease
from tests.ops.conftest import Ops
from tests.ops.support import hold_lease, park, receive_events, record_run

SAMPLE = re.compile(r"^([a-z_:]+)(\{[^}]*\})? (\S+)$")


def scrape(ops: Ops, **headers: str) -> dict[str, float]:
    response = ops.client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples: dict[str, float] = {}
    for line in response.get_data(as_text=True).splitlines():
        if line.startswith("#") or not line:
            continue
        found = SAMPLE.match(line)
        assert found, f"not a sample line: {line!r}"
        samples[(found.group(1) + (found.group(2) or ""))] = float(found.group(3))
    return samples


def test_request_counters_move(ops: Ops) -> None:
    before = scrape(ops)
    health = 'dpledger_http_requests_total{method="GET",route="/health",status="200"}'
    assert health not in before
    for _ in range(3):
        ops.client().get("/health")
    ops.client().get("/no-such-page")
    after = scrape(ops)
    assert after[health] == 3
    assert after['dpledger_http_requests_total{method="GET",route="<unmatched>",status="404"}'] == 1
    # The first scrape counted itself.
    assert after['dpledger_http_requests_total{method="GET",route="/metrics",status="200"}'] == 1
    latency = 'dpledger_http_request_duration_seconds_{}{{method="GET",route="/health"{}}}'
    assert after[latency.format("count", "")] == 3
    assert after[latency.format("bucket", ',le="+Inf"')] == 3
    assert after[latency.format("sum", "")] > 0


def test_routes_are_templates_not_paths(ops: Ops) -> None:
    ops.client().get("/cards/12345")  # signed out: sent to sign in
    text = ops.client().get("/metrics").get_data(as_text=True)
    assert 'route="/cards/<int:card_id>"' in text or 'route="/cards/<card_id>"' in text
    assert "/cards/12345" not in text


def test_inbox_backlog_and_parked_events(ops: Ops) -> None:
    samples = scrape(ops)
    assert samples["dpledger_inbox_backlog_events"] == 0
    assert samples["dpledger_inbox_parked_events"] == 0
    with ops.sessions() as session:
        ids = receive_events(session, ops.clock.now(), ["evt_1", "evt_2", "evt_3"])
        park(session, ids[0])
        session.commit()
    ops.clock.advance(minutes=2)
    samples = scrape(ops)
    assert samples["dpledger_inbox_backlog_events"] == 2
    assert samples["dpledger_inbox_parked_events"] == 1
    assert samples["dpledger_inbox_backlog_oldest_age_seconds"] == 120
    assert samples["dpledger_database_up"] == 1


def test_monitor_runs_and_durations(ops: Ops) -> None:
    start = ops.clock.now() - timedelta(hours=2)
    with ops.sessions() as session:
        record_run(session, "surplus", start, 2.5, flags=2)
        record_run(session, "surplus", start + timedelta(hours=1), 1.5, flags=1)
        record_run(session, "cash_share", start, 0.25)
        session.commit()
    samples = scrape(ops)
    surplus = '{monitor="surplus"}'
    assert samples["dpledger_monitor_runs_total" + surplus] == 2
    assert samples["dpledger_monitor_run_duration_seconds_count" + surplus] == 2
    assert samples["dpledger_monitor_run_duration_seconds_sum" + surplus] == pytest.approx(4.0)
    assert samples["dpledger_monitor_run_duration_max_seconds" + surplus] == pytest.approx(2.5)
    assert samples["dpledger_monitor_flags_raised_total" + surplus] == 3
    assert samples["dpledger_monitor_last_run_timestamp_seconds" + surplus] == pytest.approx(
        (start + timedelta(hours=1, seconds=1.5)).timestamp()
    )
    cash = '{monitor="cash_share"}'
    assert samples["dpledger_monitor_run_duration_seconds_sum" + cash] == pytest.approx(0.25)


def test_scheduler_lease_holder(ops: Ops) -> None:
    """In the database's time, as the schedulers reckon the lease: this machine's clock,
    however far out, changes nothing."""
    assert scrape(ops)['dpledger_scheduler_lease_held{holder=""}'] == 0
    with ops.sessions() as session:
        renewed = database_now(session)
        hold_lease(session, "sched-1:77:beef", renewed, seconds=600)
        session.commit()
    ops.clock.current = datetime(2040, 1, 1, tzinfo=UTC)
    samples = scrape(ops)
    assert samples['dpledger_scheduler_lease_held{holder="sched-1:77:beef"}'] == 1
    assert samples["dpledger_scheduler_lease_expires_timestamp_seconds"] == pytest.approx(
        (renewed + timedelta(seconds=600)).timestamp(), abs=0.001
    )
    with ops.sessions() as session:
        hold_lease(session, "sched-1:77:beef", renewed - timedelta(seconds=601), seconds=600)
        session.commit()
    ops.clock.current = datetime(2020, 1, 1, tzinfo=UTC)
    samples = scrape(ops)
    assert samples['dpledger_scheduler_lease_held{holder=""}'] == 0
    assert 'dpledger_scheduler_lease_held{holder="sched-1:77:beef"}' not in samples


def test_the_gauges_follow_what_the_services_do(ops: Ops) -> None:
    """Each database figure read back after the real thing happens: a provider event
    parked by the inbox, a monitor run, the lease taken and released by a scheduler."""
    before = scrape(ops)
    assert before["dpledger_inbox_parked_events"] == 0
    assert 'dpledger_monitor_runs_total{monitor="surplus"}' not in before
    assert before['dpledger_scheduler_lease_held{holder=""}'] == 0

    with ops.sessions() as session:
        sim = SimulatedProvider(session, ops.clock)
        response = sim.send(sim.event(EventKind.FEE, "no-such-card", 100, event_id="fee-1"))
        assert response.json_body["results"][0]["status"] == "parked"
        session.commit()
    assert scrape(ops)["dpledger_inbox_parked_events"] == 1

    with ops.sessions() as session:
        run_monitor(session, SystemClock(), "surplus")
        session.commit()
    finished = datetime.now(UTC).timestamp()
    samples = scrape(ops)
    surplus = '{monitor="surplus"}'
    assert samples["dpledger_monitor_runs_total" + surplus] == 1
    assert samples["dpledger_monitor_run_duration_seconds_count" + surplus] == 1
    assert 0 <= samples["dpledger_monitor_run_duration_seconds_sum" + surplus] < 60
    last = samples["dpledger_monitor_last_run_timestamp_seconds" + surplus]
    assert finished - 60 < last <= finished

    lease = Lease(ops.sessions, ops.clock, "sched-2:9:f00d", ttl=timedelta(seconds=30))
    assert lease.renew()
    assert scrape(ops)['dpledger_scheduler_lease_held{holder="sched-2:9:f00d"}'] == 1
    lease.release()
    assert scrape(ops)['dpledger_scheduler_lease_held{holder=""}'] == 0


def test_a_token_when_one_is_set(ops: Ops) -> None:
    ops.app.config["METRICS_TOKEN"] = "scrape-me-please"
    client = ops.client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(ops, Authorization="Bearer scrape-me-please")["dpledger_database_up"] == 1


def test_closed_in_production_without_a_token(ops: Ops) -> None:
    ops.app.config["ENV_NAME"] = "production"
    assert ops.client().get("/metrics").status_code == 403
    ops.app.config["METRICS_TOKEN"] = "scrape-me-please"
    assert scrape(ops, Authorization="Bearer scrape-me-please")["dpledger_database_up"] == 1


def test_label_values_are_escaped() -> None:
    from portal.ops.metrics import labels

    assert labels(holder='a"b\\c\nd') == '{holder="a\\"b\\\\c\\nd"}'


def test_scheduled_jobs_runs_and_last_outcome(ops: Ops) -> None:
    """Jobs run by a scheduler holding the lease, as ``dpledger scheduler`` runs them."""
    lease = Lease(ops.sessions, ops.clock, "sched-3:5:abba", ttl=timedelta(seconds=30))
    assert lease.renew()
    runner = JobRunner(ops.sessions, ops.clock, lease)

    def fails(session: Session, clock: Clock) -> str:
        raise RuntimeError("the mail server went away")

    assert runner.run(Job("loads_test", lambda session, clock: "2 loaded")).ran
    assert runner.run(Job("loads_test", lambda session, clock: "0 loaded")).ran
    assert not runner.run(Job("mail_test", fails)).ran
    with ops.sessions() as session:
        now = database_now(session).timestamp()
    lease.release()
    samples = scrape(ops)
    assert samples['dpledger_scheduler_job_runs_total{job="loads_test"}'] == 2
    assert samples['dpledger_scheduler_job_runs_total{job="mail_test"}'] == 1
    assert samples['dpledger_scheduler_job_last_run_ok{job="loads_test"}'] == 1
    assert samples['dpledger_scheduler_job_last_run_ok{job="mail_test"}'] == 0
    finished = samples['dpledger_scheduler_job_last_finished_timestamp_seconds{job="mail_test"}']
    assert now - 60 < finished <= now + 1
