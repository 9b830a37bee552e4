"""GET /health: the database (503 when it does not answer) and the scheduler lease, which
is reckoned in the database's time, as the schedulers reckon it."""

from __future__ import annotations

from datetime import timedelta

from ledger.clock import FixedClock
from monitoring.repositories.scheduling import database_now
from monitoring.scheduler import Lease
from portal.app import create_app
from portal.config import TestConfig as PortalConfig
from tests.ops.conftest import Ops
from tests.ops.support import hold_lease


def test_ok_with_a_live_scheduler_lease(ops: Ops) -> None:
    with ops.sessions() as session:
        hold_lease(session, "web-1:4242:abcd", database_now(session))
        session.commit()
    response = ops.client().get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["scheduler"]["status"] == "ok"
    assert body["scheduler"]["holder"] == "web-1:4242:abcd"
    assert body["scheduler"]["term"] == 3
    assert response.headers["Cache-Control"] == "no-store"


def test_degraded_without_a_lease(ops: Ops) -> None:
    response = ops.client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "scheduler": {"status": "no scheduler"},
    }


def test_degraded_once_the_lease_has_expired(ops: Ops) -> None:
    with ops.sessions() as session:
        renewed = database_now(session) - timedelta(seconds=31)
        hold_lease(session, "web-1:4242:abcd", renewed, seconds=30)
        session.commit()
    body = ops.client().get("/health").get_json()
    assert body["status"] == "degraded"
    assert body["scheduler"]["status"] == "no scheduler"
    assert body["scheduler"]["last_holder"] == "web-1:4242:abcd"


def test_no_sign_in_needed(ops: Ops) -> None:
    response = ops.client().get("/health")
    assert response.status_code == 200
    assert response.content_type == "application/json"


class UnreachableDatabase(PortalConfig):
    def __init__(self) -> None:
        super().__init__()
        # Nothing listens on port 1: the connection is refused at once.
        self.DATABASE_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


def test_503_when_the_database_does_not_answer() -> None:
    app = create_app(UnreachableDatabase(), clock=FixedClock())
    try:
        response = app.test_client().get("/health")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "down",
            "database": "unreachable",
            "scheduler": {"status": "unknown"},
        }
        metrics = app.test_client().get("/metrics")
        assert metrics.status_code == 200
        assert "dpledger_database_up 0\n" in metrics.get_data(as_text=True)
    finally:
        app.extensions["dpledger.engine"].dispose()


def test_the_databases_clock_decides_expiry_not_the_web_machines(ops: Ops) -> None:
    """A lease live by the database's time is live however far this machine's clock is
    out, and an expired one is expired: the schedulers reckon it in the database's time."""
    with ops.sessions() as session:
        hold_lease(session, "h", database_now(session), seconds=600)
        session.commit()
    for web_clock in (FixedClock().now() + timedelta(days=3650), FixedClock().now()):
        ops.clock.current = web_clock  # ten years ahead, then months behind
        assert ops.client().get("/health").get_json()["status"] == "ok"
    with ops.sessions() as session:
        hold_lease(session, "h", database_now(session) - timedelta(seconds=601), seconds=600)
        session.commit()
    for web_clock in (FixedClock().now() - timedelta(days=3650), FixedClock().now()):
        ops.clock.current = web_clock
        body = ops.client().get("/health").get_json()
        assert (body["status"], body["scheduler"]) == (
            "degraded",
            {
                "status": "no scheduler",
                "last_holder": "h",
                "expired_at": body["scheduler"]["expired_at"],
            },
        )


def test_a_scheduler_taking_the_lease_makes_it_ok_and_releasing_it_degraded(ops: Ops) -> None:
    """The lease as ``dpledger scheduler`` takes it (in the database's time)."""
    lease = Lease(ops.sessions, ops.clock, "sched-9:1:cafe", ttl=timedelta(seconds=30))
    assert lease.renew()
    body = ops.client().get("/health").get_json()
    assert (body["status"], body["scheduler"]["holder"]) == ("ok", "sched-9:1:cafe")
    lease.release()
    body = ops.client().get("/health").get_json()
    assert (body["status"], body["scheduler"]["status"]) == ("degraded", "no scheduler")
    assert body["scheduler"]["last_holder"] == "sched-9:1:cafe"
