"""Within a source, an idempotency key names one request: a posting (its transfers) or a
card authorisation's decision (an approval's hold has the authorisation's key, a decline
writes no transfer). A key one has is refused to the other, however the decision went."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import postings
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.errors import IdempotencyConflict
from ledger.models import Authorisation, Transfer
from tests import factories


def _conflicts(session: Session, call: Callable[[], object]) -> None:
    """``call`` is refused as a conflict and records nothing (no transfer, no decision)."""

    def counts() -> tuple[int, int]:
        return (
            session.execute(select(func.count()).select_from(Transfer)).scalar_one(),
            session.execute(select(func.count()).select_from(Authorisation)).scalar_one(),
        )

    before = counts()
    with pytest.raises(IdempotencyConflict):
        call()
    assert counts() == before


def test_a_declined_authorisations_key_cannot_be_used_by_a_posting(
    session: Session, clock: FixedClock
) -> None:
    h = factories.household(session, clock, loaded=1_000)
    ledger = CardPayments(session, clock)
    declined = ledger.authorise(h.card.id, 5_000, source="p", key="D")  # beyond the funds
    assert declined.decline_reason == "insufficient_funds"
    _conflicts(session, lambda: ledger.load(h.budget.id, 5_000, source="p", key="D"))
    # Nor by a linked set's later transfer (a load topping up the pot takes "E#2").
    ledger.authorise(h.card.id, 1, source="p", key="E#2", policy_decline="blocked_category")
    _conflicts(
        session,
        lambda: ledger.load(h.budget.id, 300, source="p", key="E", pot_top_ups={h.pot.id: 100}),
    )
    # Another source's key is another key.
    assert len(ledger.load(h.budget.id, 5_000, source="q", key="D")) == 1
    assert ledger.authorise(h.card.id, 5_000, source="p", key="D") == declined
    assert check_balances(session).ok and verify_chain(session).ok


def test_a_postings_key_cannot_be_used_by_an_authorisation_approved_or_declined(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    ledger = CardPayments(session, clock)
    ledger.load(budget.id, 500, source="p", key="L")
    _conflicts(session, lambda: ledger.authorise(card.id, 100, source="p", key="L"))
    _conflicts(session, lambda: ledger.authorise(card.id, 9_000, source="p", key="L"))
    _conflicts(
        session,
        lambda: ledger.authorise(card.id, 100, source="p", key="L", policy_decline="blocked"),
    )
    approved = ledger.authorise(card.id, 100, source="p", key="A")
    assert approved.approved
    _conflicts(session, lambda: ledger.load(budget.id, 500, source="p", key="A"))
    assert ledger.balances(budget.id).available == 1_500 - 100


def test_keys_are_one_namespace_inside_a_deferred_block_after_reading_ahead(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    ledger = CardPayments(session, clock)
    ledger.authorise(card.id, 9_000, source="p", key="old-decline")
    session.commit()
    with postings.deferred(session):
        # Read ahead: a declined authorisation's key counts as used.
        postings.prefetch_keys(session, "p", ["old-decline", "new-decline", "waiting"])
        with pytest.raises(IdempotencyConflict):
            ledger.load(budget.id, 100, source="p", key="old-decline")
        # A key read ahead as unused, then declined, is used.
        assert not ledger.authorise(card.id, 9_000, source="p", key="new-decline").approved
        with pytest.raises(IdempotencyConflict):
            ledger.load(budget.id, 100, source="p", key="new-decline")
        # A posting waiting in memory has its key.
        ledger.load(budget.id, 100, source="p", key="waiting")
        with pytest.raises(IdempotencyConflict):
            ledger.authorise(card.id, 9_000, source="p", key="waiting")
    assert ledger.balances(budget.id).posted == 1_100
    declines = session.execute(select(Authorisation.idempotency_key)).scalars().all()
    assert sorted(declines) == ["new-decline", "old-decline"]
    assert check_balances(session).ok and verify_chain(session).ok
