"""The same fact from the provider by two messages has one effect; another fact under
the same id is refused, never taken for a duplicate."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from adapters.apply import EventApplier
from adapters.canonical import CanonicalEvent, EventKind
from adapters.models import InboxStatus
from adapters.simulated import SimulatedProvider
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.errors import IdempotencyConflict
from ledger.service import Ledger
from tests import factories


def _statement_line(webhook: CanonicalEvent, **changes: object) -> CanonicalEvent:
    """The statement file's line for the webhook's transaction: no authorisation id, the
    merchant spelt the statement's way, no MCC."""
    line = replace(webhook, payment_id=None, merchant_name="SIMULATED MERCHANT LTD", mcc=None)
    return replace(line, **changes)


def test_a_clearing_by_webhook_against_its_hold_then_by_statement_line_is_a_duplicate(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    sim = SimulatedProvider(session, clock)
    token = card.provider_card_token
    pid, answer = sim.purchase(token, 1_500)
    assert answer["approved"]
    clearing = sim.event(EventKind.CLEARING, token, 1_500, payment_id=pid, event_id="tx-1")
    assert sim.send(clearing).status == 200
    applier = EventApplier(session, clock, provider="simulated")
    outcome = applier.apply(_statement_line(clearing))
    assert outcome.status is InboxStatus.DUPLICATE
    # Another amount or time under the same transaction id is another settlement.
    for other in (
        _statement_line(clearing, amount=1_600),
        _statement_line(clearing, occurred_at=clearing.occurred_at + timedelta(hours=1)),
    ):
        with pytest.raises(IdempotencyConflict):
            applier.apply(other)
    balances = Ledger(session, clock).balances(budget.id)
    assert (balances.posted, balances.available) == (10_000 - 1_500, 10_000 - 1_500)
    assert check_balances(session).ok and verify_chain(session).ok


def test_a_clearing_by_statement_line_then_by_webhook_against_its_hold_is_a_duplicate(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    sim = SimulatedProvider(session, clock)
    token = card.provider_card_token
    pid, answer = sim.purchase(token, 1_500)
    assert answer["approved"]
    clearing = sim.event(EventKind.CLEARING, token, 1_500, payment_id=pid, event_id="tx-2")
    applier = EventApplier(session, clock, provider="simulated")
    assert applier.apply(_statement_line(clearing)).status is InboxStatus.APPLIED
    assert sim.send(clearing).status == 200  # the clearing part: the hold is released
    balances = Ledger(session, clock).balances(budget.id)
    assert (balances.posted, balances.available) == (10_000 - 1_500, 10_000 - 1_500)
    assert check_balances(session).ok and verify_chain(session).ok
