"""Money events (loads, unloads, fees …) applied with the provider's time, under keys
that fit the ledger's columns however long the provider's id."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.apply import EventApplier
from adapters.canonical import EventKind
from adapters.keys import COLUMN, LEDGER, ledger_key
from adapters.models import InboxStatus
from adapters.simulated import SimulatedProvider
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import Transfer, TransferCode
from tests import factories


def test_an_unload_is_dated_when_the_provider_made_it(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    sim = SimulatedProvider(session, clock)
    unloaded_at = clock.now() - timedelta(hours=5)
    event = sim.event(EventKind.UNLOAD, card.provider_card_token, 2_500, event_id="unload-1")
    event = replace(event, occurred_at=unloaded_at)
    applier = EventApplier(session, clock, provider="simulated")
    assert applier.apply(event).status is InboxStatus.APPLIED
    clawback = session.execute(
        select(Transfer).where(Transfer.code == TransferCode.CLAWBACK)
    ).scalar_one()
    assert clawback.effective_at == unloaded_at
    assert applier.apply(event).status is InboxStatus.DUPLICATE
    assert CardPayments(session, clock).balances(budget.id).posted == 10_000 - 2_500


def test_provider_ids_of_up_to_200_characters_fit_a_linked_set(
    session: Session, clock: FixedClock
) -> None:
    """A load onto a budget in arrears is two transfers (the load, and the arrears it
    repays), the second keyed ``key#2``: a 200-character id must leave room for it."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    ledger = CardPayments(session, clock)
    ledger.record_clearing(card.id, 1_600, source="test", key="beyond-the-funds")
    sim = SimulatedProvider(session, clock)
    applier = EventApplier(session, clock, provider="simulated")
    for length in (COLUMN - 9, COLUMN - 1, COLUMN):
        long_id = f"load-{length}-".ljust(length, "x")
        load = sim.event(EventKind.LOAD, card.provider_card_token, 400, event_id=long_id)
        applier.prepare([load])  # read ahead as an import does, under the same keys
        assert applier.apply(load).status is InboxStatus.APPLIED
        assert applier.apply(load).status is InboxStatus.DUPLICATE
        key = ledger_key(long_id)
        assert len(key) == LEDGER and key != long_id
    session.flush()
    loads = session.execute(
        select(Transfer.idempotency_key, Transfer.code)
        .where(Transfer.idempotency_key.like("load-%"))
        .order_by(Transfer.id)
    ).all()
    load, repayment = TransferCode.LOAD, TransferCode.ARREARS_REPAYMENT
    assert [code for _, code in loads] == [load, repayment, load, repayment, load]
    assert all(len(key) <= COLUMN for key, _ in loads)
    unload_id = "unload-".ljust(COLUMN, "u")
    unload = sim.event(EventKind.UNLOAD, card.provider_card_token, 100, event_id=unload_id)
    assert applier.apply(unload).status is InboxStatus.APPLIED
    balances = ledger.balances(budget.id)
    # 1,000 loaded, 1,600 spent (600 of it in arrears), three loads of 400 that repay the
    # arrears first, and 100 unloaded.
    assert balances.posted == 1_000 - (1_600 - 600) + 3 * 400 - 600 - 100
    assert check_balances(session).ok and verify_chain(session).ok
