"""The inbox: stored before applied, nothing lost after a crash, parked events replayable."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import inbox
from adapters.canonical import EventKind
from adapters.models import InboundEvent, InboxStatus
from adapters.repositories import inbox as inbox_repo
from adapters.simulated import FORMAT, PROVIDER, SimulatedProvider
from adapters.statement_file import HEADER, import_statement
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.models import CardKind
from ledger.service import Ledger
from tests import factories


def _factory(session: Session) -> sessionmaker[Session]:
    return sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


def _row(session: Session, provider_event_id: str) -> InboundEvent:
    return session.execute(
        select(InboundEvent).where(InboundEvent.provider_event_id == provider_event_id)
    ).scalar_one()


def test_a_crash_between_store_and_apply_loses_nothing(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    load = sim.event(EventKind.LOAD, card.provider_card_token, 2_500, event_id="load-1")
    clearing = sim.event(EventKind.CLEARING, card.provider_card_token, 700, event_id="clr-1")
    body = sim.body(load, clearing)
    # The store commits, then the process dies before applying.
    inbox.store(
        session,
        provider=PROVIDER,
        channel="webhook",
        body=body,
        headers={},
        received_at=clock.now(),
        events=FORMAT.split(body, "webhook"),
    )
    session.commit()
    assert _row(session, "load:load-1").status is InboxStatus.RECEIVED
    assert Ledger(session, clock).balances(budget.id).posted == 5_000

    clock.advance(seconds=3)  # past the real-time deadline: nobody is applying them now
    report = inbox.replay(_factory(session), clock)
    assert report.outcomes == {InboxStatus.APPLIED: 2}
    assert Ledger(session, clock).balances(budget.id).posted == 5_000 + 2_500 - 700
    # Replaying again finds nothing waiting, and the provider's retry is a duplicate.
    assert inbox.replay(_factory(session), clock).total == 0
    response = sim.send(load, clearing)
    assert [r["status"] for r in response.json_body["results"]] == ["applied", "applied"]
    assert Ledger(session, clock).balances(budget.id).posted == 5_000 + 2_500 - 700


def test_parked_events_are_visible_and_replay_after_a_fix(
    session: Session, clock: FixedClock
) -> None:
    who, budget, _ = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    clearing = sim.event(EventKind.CLEARING, "card-not-yet-issued", 1_000, event_id="early")
    response = sim.send(clearing)
    assert response.json_body["results"][0]["status"] == "parked"
    parked = _row(session, "clearing:early")
    assert parked.status is InboxStatus.PARKED and parked.attempts == 1
    assert "unknown_card" in (parked.reason or "")

    Enrolment(session, clock).issue_card(
        who,
        kind=CardKind.PRIMARY,
        provider=PROVIDER,
        provider_card_token="card-not-yet-issued",
        last4="4321",
        budget=budget,
    )
    session.commit()
    report = inbox.replay(_factory(session), clock, statuses=[InboxStatus.PARKED])
    assert report.outcomes == {InboxStatus.APPLIED: 1}
    applied = _row(session, "clearing:early")
    session.refresh(applied)
    assert applied.status is InboxStatus.APPLIED and applied.attempts == 2
    assert Ledger(session, clock).balances(budget.id).posted == 4_000


def test_a_late_real_time_request_is_never_decided(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    request = sim.event(
        EventKind.AUTHORISATION_REQUEST,
        card.provider_card_token,
        900,
        payment_id="late",
        event_id="late",
    )
    body = sim.body(request)
    inbox.store(
        session, provider=PROVIDER, channel="webhook", body=body, headers={},
        received_at=clock.now(), events=FORMAT.split(body, "webhook"),
    )  # fmt: skip
    session.commit()
    clock.advance(seconds=3)  # the provider's deadline has passed
    report = inbox.replay(_factory(session), clock)
    assert report.outcomes == {InboxStatus.IGNORED: 1}
    assert Ledger(session, clock).balances(budget.id).available == 5_000
    # The provider's own outcome then arrives as an advice, and is held.
    sim.send(
        sim.event(
            EventKind.AUTHORISATION_ADVICE,
            card.provider_card_token,
            900,
            payment_id="late",
            event_id="late",
        )
    )
    assert Ledger(session, clock).balances(budget.id).available == 4_100


def test_duplicate_delivery_is_not_stored_twice(session: Session, clock: FixedClock) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    event = sim.event(EventKind.FEE, card.provider_card_token, 150)
    first = sim.send(event).json_body["results"][0]
    second = sim.send(event).json_body["results"][0]
    assert first["status"] == second["status"] == "applied"
    assert len(session.execute(select(InboundEvent)).scalars().all()) == 1


def test_the_same_fact_by_webhook_and_by_file_has_one_effect(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    sim.send(
        sim.event(
            EventKind.DIRECT_DEBIT, card.provider_card_token, 300, payee="Agency", event_id="dd-1"
        )
    )
    path = tmp_path / "s.csv"
    path.write_text(
        f"{HEADER}\nDIRECT_DEBIT,dd-1,{card.provider_card_token},"
        f"{clock.now().isoformat()},3.00,GBP,,,Agency,,,,\n"
    )
    report = import_statement(_factory(session), path, clock, provider=PROVIDER)
    assert (report.applied, report.duplicate) == (0, 1)
    assert Ledger(session, clock).balances(budget.id).posted == 4_700


def _store(session: Session, sim: SimulatedProvider, *events) -> list[int]:
    body = sim.body(*events)
    stored = inbox.store(
        session, provider=PROVIDER, channel="webhook", body=body, headers={},
        received_at=sim.clock.now(), events=FORMAT.split(body, "webhook"),
    )  # fmt: skip
    session.commit()
    return [item.inbox_id for item in stored]


def test_a_replay_leaves_a_young_event_to_the_delivery_applying_it(
    session: Session, clock: FixedClock
) -> None:
    """Within the provider's deadline the delivery that stored a real-time request is
    deciding it and must answer from its own decision: a replay leaves it alone."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    request = sim.event(
        EventKind.AUTHORISATION_REQUEST, card.provider_card_token, 900,
        payment_id="racing", event_id="racing",
    )  # fmt: skip
    (inbox_id,) = _store(session, sim, request)
    clock.advance(seconds=1)
    inbox.replay(_factory(session), clock)
    inbox.replay(_factory(session), clock, event_ids=[inbox_id])
    assert _row(session, "authorisation_request:racing").status is InboxStatus.RECEIVED
    assert Ledger(session, clock).balances(budget.id).available == 5_000
    # The delivery itself (still within the deadline) decides it.
    result = inbox.apply_event(session, inbox_id, clock, live=True)
    assert result.status is InboxStatus.APPLIED
    assert Ledger(session, clock).balances(budget.id).available == 4_100


def test_the_scheduler_replays_what_nobody_applied(session: Session, clock: FixedClock) -> None:
    """Received events past the deadline and events parked for a transient error are
    applied; events parked for a cause someone must fix wait for an officer."""
    who, budget, card = factories.budget_with_card(session, clock, loaded=5_000)
    sim = SimulatedProvider(session, clock)
    t = card.provider_card_token
    crashed, young, transient, spent, needs_fix = (
        sim.event(EventKind.FEE, t, 100, event_id="crashed"),
        sim.event(EventKind.FEE, t, 200, event_id="young"),
        sim.event(EventKind.FEE, t, 400, event_id="transient"),
        sim.event(EventKind.FEE, t, 800, event_id="spent"),
        sim.event(EventKind.FEE, "card-issued-later", 1_600, event_id="needs-fix"),
    )
    _store(session, sim, crashed)
    for event, reason, attempts in (
        (transient, "error: OperationalError: (psycopg.OperationalError) server closed", 1),
        (spent, "error: OperationalError: database is locked", 5),
    ):
        (inbox_id,) = _store(session, sim, event)
        row = inbox_repo.get_event(session, inbox_id)
        assert row is not None
        row.status, row.reason, row.attempts = InboxStatus.PARKED, reason, attempts
    assert sim.send(needs_fix).json_body["results"][0]["status"] == "parked"
    Enrolment(session, clock).issue_card(
        who, kind=CardKind.PRIMARY, provider=PROVIDER, provider_card_token="card-issued-later",
        last4="5555", budget=budget,
    )  # fmt: skip
    session.commit()
    clock.advance(seconds=3)
    _store(session, sim, young)

    report = inbox.replay_unapplied(session, clock)

    assert report.outcomes == {InboxStatus.APPLIED: 2}
    statuses = {
        name: _row(session, f"fee:{name}").status
        for name in ("crashed", "young", "transient", "spent", "needs-fix")
    }
    assert statuses == {
        "crashed": InboxStatus.APPLIED,
        "young": InboxStatus.RECEIVED,
        "transient": InboxStatus.APPLIED,
        "spent": InboxStatus.PARKED,
        "needs-fix": InboxStatus.PARKED,
    }
    assert Ledger(session, clock).balances(budget.id).posted == 5_000 - 100 - 400


def test_transient_reasons() -> None:
    assert inbox.is_transient("error: OperationalError: database is locked")
    assert inbox.is_transient("error: InterfaceError: connection already closed")
    assert not inbox.is_transient("error: KeyError: 'amount'")
    assert not inbox.is_transient("unknown_card: no simulated card with token 'x'")
    assert not inbox.is_transient(None)
