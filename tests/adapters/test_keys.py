"""Keys longer than their columns are digested, never cut: two long keys that differ only
near their end stay two keys, and every stored key fits its column (PostgreSQL refuses
what does not)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import keys
from adapters.canonical import EventKind
from adapters.models import CardCommandRecord, CardPayment, CardPaymentPart, InboundEvent
from adapters.outbound import OutboundCommands
from adapters.simulated import SimulatedProvider
from ledger.clock import FixedClock
from ledger.models import Authorisation, Transfer
from ledger.ports import CardCommand
from ledger.service import Ledger
from tests import factories


def test_a_long_key_is_digested_not_cut() -> None:
    assert keys.fit("short") == "short"
    exactly = "k" * keys.COLUMN
    assert keys.fit(exactly) == exactly
    one, two = "p" * 250 + "1", "p" * 250 + "2"
    fitted = keys.fit(one)
    assert len(fitted) == keys.COLUMN and fitted.startswith("p" * 100)
    assert fitted != keys.fit(two) and fitted == keys.fit(one)
    assert len(keys.ledger_key(one)) == keys.LEDGER


def _longest(session: Session, column) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.max(func.length(column)))) or 0)


def test_long_event_ids_are_two_events(session: Session, clock: FixedClock) -> None:
    """The inbox keys an API event "{kind}:{event_id}": 215 characters here, the same for
    their first 200. Cut, the second would be taken for a repeat of the first."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    sim = SimulatedProvider(session, clock)
    payments = [
        sim.event(
            EventKind.FASTER_PAYMENT,
            card.provider_card_token,
            1_000,
            payee="A Person PA",
            event_id="p" * 199 + tail,
        )
        for tail in "12"
    ]
    results = [sim.send(p).json_body["results"][0]["status"] for p in payments]
    assert results == ["applied", "applied"]
    assert Ledger(session, clock).balances(budget.id).posted == 10_000 - 2_000
    assert _longest(session, InboundEvent.provider_event_id) <= keys.COLUMN


def test_long_payment_and_increment_ids_fit_their_columns(
    session: Session, clock: FixedClock
) -> None:
    """A payment's keys join its id and its events' ids (406 characters here)."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    sim = SimulatedProvider(session, clock)
    token, pid = card.provider_card_token, "a" * 200
    _, answer = sim.purchase(token, 1_000, payment_id=pid)
    assert answer["approved"]
    increment = sim.event(
        EventKind.AUTHORISATION_REQUEST, token, 500, payment_id=pid, event_id="i" * 200,
        increment=True,
    )  # fmt: skip
    assert sim.send(increment).json_body["results"][0]["approved"] is True
    for tail, kind in (("n", EventKind.INCREMENTAL_AUTHORISATION), ("c", EventKind.CLEARING)):
        event = sim.event(kind, token, 700, payment_id=pid, event_id=tail * 200)
        assert sim.send(event).json_body["results"][0]["status"] == "applied"
    balances = Ledger(session, clock).balances(budget.id)
    assert (balances.posted, balances.available) == (10_000 - 700, 10_000 - 700)
    for column in (
        Transfer.idempotency_key,
        Authorisation.idempotency_key,
        CardPayment.provider_payment_id,
        CardPaymentPart.part_key,
        InboundEvent.provider_event_id,
    ):
        assert _longest(session, column) <= keys.COLUMN, column


def test_a_long_command_key_is_one_command(session: Session, clock: FixedClock) -> None:
    _, _, card = factories.budget_with_card(session, clock)
    sim = SimulatedProvider(session, clock)
    commands = OutboundCommands(session, clock, {"simulated": sim})
    key = "suspend:" + "officer-note-" * 30
    first = commands.send(card.id, CardCommand.SUSPEND, key=key, reason="r" * 800)
    again = commands.send(card.id, CardCommand.SUSPEND, key=key, reason="r" * 800)
    assert first.accepted and again == first and sim.calls == 1
    record = session.execute(select(CardCommandRecord)).scalar_one()
    assert len(record.idempotency_key) <= keys.COLUMN and len(record.reason or "") == 500
