"""Deferred postings: the same outcomes as posting one by one, with fewer statements."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger import postings
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.errors import IdempotencyConflict, InsufficientFunds
from ledger.models import Transfer, TransferCode
from tests import factories


def _transfer_count(session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def _day_of_spending(ledger: CardPayments, card_id: int, budget_id: int, tag: str) -> None:
    ledger.load(budget_id, 50_000, source="test", key=f"{tag}-load")
    for n in range(30):
        ledger.record_clearing(card_id, 100 + n, source="test", key=f"{tag}-spend-{n}")
    ledger.record_bank_payment(
        budget_id,
        2_000,
        method=TransferCode.DIRECT_DEBIT,
        payee="Agency",
        source="test",
        key=f"{tag}-dd",
    )
    ledger.record_clearing(card_id, 60_000, source="test", key=f"{tag}-beyond")  # into arrears


def test_deferred_and_immediate_postings_end_in_the_same_balances(session, clock):
    ledger = CardPayments(session, clock)
    _, budget_a, card_a = factories.budget_with_card(session, clock)
    _, budget_b, card_b = factories.budget_with_card(session, clock)

    _day_of_spending(ledger, card_a.id, budget_a.id, "a")
    with postings.deferred(session):
        _day_of_spending(ledger, card_b.id, budget_b.id, "b")

    a, b = ledger.balances(budget_a.id), ledger.balances(budget_b.id)
    assert (a.posted, a.available, a.pending_debits) == (b.posted, b.available, b.pending_debits)
    assert check_balances(session).ok
    assert verify_chain(session).ok


def test_nothing_is_written_until_the_block_ends_or_something_reads(session, clock):
    ledger = CardPayments(session, clock)
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    before = _transfer_count(session)
    with postings.deferred(session):
        ledger.record_clearing(card.id, 100, source="test", key="c1")
        ledger.record_clearing(card.id, 200, source="test", key="c2")
        raw = session.connection().exec_driver_sql("SELECT count(*) FROM transfers").scalar()
        assert raw == before  # still in memory
        # An ORM read writes them first, so it never sees a database without them.
        assert _transfer_count(session) == before + 2
    assert ledger.balances(budget.id).posted == 10_000 - 300


def test_replays_inside_a_block_return_the_original_and_conflicts_are_named(session, clock):
    ledger = CardPayments(session, clock)
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    with postings.deferred(session):
        first = ledger.record_clearing(card.id, 100, source="test", key="same")
        again = ledger.record_clearing(card.id, 100, source="test", key="same")
        with pytest.raises(IdempotencyConflict):
            ledger.record_clearing(card.id, 101, source="test", key="same")
    assert again == first
    assert ledger.balances(budget.id).posted == 9_900


def test_a_failed_item_leaves_the_rest_of_the_batch_posted(session, clock):
    ledger = CardPayments(session, clock)
    h = factories.household(session, clock, loaded=1_000)
    with postings.deferred(session):
        ledger.allocate_to_pot(h.pot.id, 600, source="test", key="ok")
        with pytest.raises(InsufficientFunds):
            ledger.allocate_to_pot(h.pot.id, 600, source="test", key="too-much")
        ledger.allocate_to_pot(h.pot.id, 400, source="test", key="ok2")
    assert ledger.balances(h.pot.account_id).posted == 1_000
    assert check_balances(session).ok


def test_postings_are_kept_when_the_block_raises(session, clock):
    ledger = CardPayments(session, clock)
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    with pytest.raises(LookupError), postings.deferred(session):
        ledger.record_clearing(card.id, 100, source="test", key="kept")
        raise LookupError("the caller's own failure")
    assert ledger.balances(budget.id).posted == 900
    assert verify_chain(session).ok


def test_authorisations_inside_a_block_find_their_holds(session, clock):
    ledger = CardPayments(session, clock)
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    with postings.deferred(session):
        hold = ledger.authorise(card.id, 300, source="test", key="a").hold_id
        assert hold is not None
        ledger.post_hold(hold, 250, source="test", key="p")
    assert ledger.balances(budget.id).posted == 750
    assert check_balances(session).ok


def test_a_savepoint_cannot_open_while_postings_wait(session, clock):
    ledger = CardPayments(session, clock)
    _, _, card = factories.budget_with_card(session, clock, loaded=1_000)
    with postings.deferred(session):
        ledger.record_clearing(card.id, 100, source="test", key="c")
        with pytest.raises(RuntimeError, match="savepoint"):
            session.begin_nested()
