"""The inbox on the real-time path: an event the database refused to write is tried
again by the scheduler, and a delivery's apply commits without waiting for the disk."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from adapters import inbox
from adapters.canonical import EventKind
from adapters.models import InboundEvent, InboxStatus
from adapters.simulated import FORMAT, PROVIDER, SimulatedProvider
from ledger.clock import FixedClock
from ledger.service import Ledger
from tests import factories

# A trigger refusing to move the chain head: the database refuses a posting's last write
# after every check has passed (as a lost connection or a lock timeout would), and the
# ledger raises LedgerWriteFailed. Dropping it is the cause passing.
_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_head BEFORE UPDATE ON ledger_head "
        "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_head() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$",
        "CREATE TRIGGER refuse_head BEFORE UPDATE ON ledger_head "
        "FOR EACH ROW EXECUTE FUNCTION refuse_head()",
    ],
}
_ALLOW = {
    "sqlite": ["DROP TRIGGER refuse_head"],
    "postgresql": ["DROP TRIGGER refuse_head ON ledger_head", "DROP FUNCTION refuse_head()"],
}


def _run(session: Session, statements: dict[str, list[str]]) -> None:
    for sql in statements[session.get_bind().dialect.name]:
        session.execute(text(sql))
    session.commit()


def _row(session: Session, provider_event_id: str) -> InboundEvent:
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.provider_event_id == provider_event_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def test_an_event_whose_ledger_write_the_database_refused_is_retried_by_the_scheduler(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    fee = sim.event(EventKind.FEE, card.provider_card_token, 100, event_id="refused")
    _run(session, _REFUSE)

    response = sim.send(fee)

    assert response.json_body["results"][0]["status"] == "parked"
    parked = _row(session, "fee:refused")
    assert parked.status is InboxStatus.PARKED and parked.attempts == 1
    assert (parked.reason or "").startswith("ledger_write_failed: ")
    assert inbox.is_transient(parked.reason)
    assert Ledger(session, clock).balances(budget.id).posted == 5_000  # nothing of it stays

    # While the database still refuses, each run of the job tries it once more.
    clock.advance(seconds=3)
    report = inbox.replay_unapplied(session, clock)
    assert report.outcomes == {InboxStatus.PARKED: 1}
    assert _row(session, "fee:refused").attempts == 2

    # Once the cause has passed, the next run applies it, once.
    _run(session, _ALLOW)
    report = inbox.replay_unapplied(session, clock)
    assert report.outcomes == {InboxStatus.APPLIED: 1}
    applied = _row(session, "fee:refused")
    assert applied.status is InboxStatus.APPLIED and applied.attempts == 3
    assert Ledger(session, clock).balances(budget.id).posted == 5_000 - 100
    assert inbox.replay_unapplied(session, clock).total == 0


def test_the_scheduler_stops_retrying_a_refused_write_after_its_attempts(
    session: Session, clock: FixedClock
) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    _run(session, _REFUSE)
    sim.send(sim.event(EventKind.FEE, card.provider_card_token, 100, event_id="refused"))
    clock.advance(seconds=3)

    for _ in range(5):
        inbox.replay_unapplied(session, clock, max_attempts=3)

    parked = _row(session, "fee:refused")
    assert parked.status is InboxStatus.PARKED and parked.attempts == 3


def test_a_refused_write_is_transient_and_a_domain_refusal_is_not() -> None:
    assert inbox.is_transient("ledger_write_failed: the database refused a posting's writes")
    assert not inbox.is_transient("insufficient_funds: account 3 has 0p available")


def test_a_delivery_applies_in_a_transaction_that_commits_without_waiting(
    session: Session, clock: FixedClock
) -> None:
    """PostgreSQL: the apply's commit does not wait for the disk (the delivery waits once,
    before answering); the setting is made by the statement that locks the event."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no synchronous_commit; every commit waits")
    _, _, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    body = sim.body(sim.event(EventKind.FEE, card.provider_card_token, 100))
    (stored,) = inbox.store(
        session,
        provider=PROVIDER,
        channel="webhook",
        body=body,
        headers={},
        received_at=clock.now(),
        events=FORMAT.split(body, "webhook"),
    )
    session.commit()

    def setting() -> str:
        return str(session.execute(text("SHOW synchronous_commit")).scalar_one())

    with session.begin_nested():
        assert setting() == "on"
        result = inbox.apply_event(session, stored.inbox_id, clock, commit_without_waiting=True)
        assert result.status is InboxStatus.APPLIED
        assert setting() == "off"
