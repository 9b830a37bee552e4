"""The posting engine's shortcuts: reading ahead and fewer statements, the same answers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger import postings
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.errors import IdempotencyConflict, UnknownRecord
from ledger.models import CardKind, Transfer, TransferCode
from ledger.repositories import accounts as accounts_repo
from tests import factories


def _transfers(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def test_a_replay_as_the_first_posting_of_a_transaction_returns_the_original(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with committed() as session, session.begin():
        _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
        card_id, budget_id = card.id, budget.id
        first = CardPayments(session, clock).record_clearing(card_id, 250, source="t", key="k")
    with committed() as session, session.begin():
        before = _transfers(session)
    # Each call below is the first posting of its transaction: the head and the key are
    # read together.
    with committed() as session, session.begin():
        again = CardPayments(session, clock).record_clearing(card_id, 250, source="t", key="k")
    assert again == first
    with committed() as session, session.begin(), pytest.raises(IdempotencyConflict):
        CardPayments(session, clock).record_clearing(card_id, 260, source="t", key="k")
    with committed() as session, session.begin():
        CardPayments(session, clock).record_clearing(card_id, 100, source="t", key="k2")
    with committed() as session:
        assert _transfers(session) == before + 1
        assert CardPayments(session, clock).balances(budget_id).posted == 10_000 - 350
        assert verify_chain(session).ok
        assert check_balances(session).ok


def _a_day(ledger: CardPayments, h: factories.Household, tag: str) -> None:
    """Spending from the budget and the pot, a fee (its account new), a payment beyond the
    funds (into arrears) and a load that repays it, and a replay of the day's first key."""
    ledger.record_clearing(h.card.id, 1_000, source="t", key=f"{tag}-1")
    ledger.record_clearing(h.companion_card.id, 300, source="t", key=f"{tag}-2")
    ledger.refund(h.companion_card.id, 50, source="t", key=f"{tag}-3")
    ledger.charge_fee(h.budget.id, 150, source="t", key=f"{tag}-4")
    ledger.record_bank_payment(
        h.budget.id, 9_000, method=TransferCode.DIRECT_DEBIT, payee="Agency",
        source="t", key=f"{tag}-5",
    )  # fmt: skip
    ledger.load(h.budget.id, 4_000, source="t", key=f"{tag}-6")
    ledger.record_clearing(h.card.id, 1_000, source="t", key=f"{tag}-1")  # a replay


def _positions(session: Session, clock: FixedClock, h: factories.Household) -> list[object]:
    ledger = CardPayments(session, clock)
    arrears = postings.arrears_account_id(session, h.budget.id)
    return [
        (b.posted, b.available, b.pending_debits)
        for b in (ledger.balances(a) for a in (h.budget.id, h.pot.account_id, arrears))
    ]


def test_reading_ahead_changes_no_outcome(session: Session, clock: FixedClock) -> None:
    ledger = CardPayments(session, clock)
    plain = factories.household(session, clock, loaded=5_000, pot=1_000)
    read_ahead = factories.household(session, clock, loaded=5_000, pot=1_000)
    _a_day(ledger, plain, "p")

    session.commit()  # a new transaction (a savepoint released): nothing read ahead yet
    with postings.deferred(session):
        postings.prefetch_cards(session, [read_ahead.card.id, read_ahead.companion_card.id])
        postings.prefetch_accounts(session, [read_ahead.budget.id])
        postings.prefetch_arrears(session, [read_ahead.budget.id])
        # The day's keys, one used already (by the setup's pot allocation: a conflict).
        keys = [f"r-{n}" for n in range(1, 7)] + [f"setup-pot-{read_ahead.pot.id}"]
        postings.prefetch_keys(session, "t", keys)
        postings.prefetch_keys(session, "test", keys)
        _a_day(ledger, read_ahead, "r")
        with pytest.raises(IdempotencyConflict):
            ledger.allocate_to_pot(read_ahead.pot.id, 1, source="test", key=keys[-1])

    assert _positions(session, clock, read_ahead) == _positions(session, clock, plain)
    assert verify_chain(session).ok
    assert check_balances(session).ok


def test_a_card_read_ahead_brings_the_system_accounts_that_exist(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    session.commit()
    postings.prefetch_cards(session, [card.id])
    # No fees account exists yet: the first fee opens it, the second finds it.
    ledger = CardPayments(session, clock)
    ledger.charge_fee(budget.id, 10, source="t", key="f1")
    ledger.charge_fee(budget.id, 20, source="t", key="f2")
    fees = {
        t.credit_account_id
        for t in session.execute(select(Transfer)).scalars()
        if t.code is TransferCode.FEE
    }
    assert len(fees) == 1
    assert accounts_repo.get(session, fees.pop()).credits_posted == 30
    with pytest.raises(UnknownRecord):
        postings.card_account_id(session, 10**9)
    assert check_balances(session).ok


def test_reading_ahead_never_replaces_totals_the_block_has_moved(
    session: Session, clock: FixedClock
) -> None:
    who, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    replacement = Enrolment(session, clock).issue_card(
        who, kind=CardKind.PRIMARY, provider="simulated", provider_card_token=f"r_{who.id}",
        last4="4321", budget=budget,
    )  # fmt: skip
    session.commit()
    ledger = CardPayments(session, clock)
    with postings.deferred(session):
        ledger.record_clearing(card.id, 600, source="t", key="old-card")
        # The budget as the database has it (600p behind) comes back with the new card.
        postings.prefetch_cards(session, [replacement.id])
        postings.prefetch_accounts(session, [budget.id])
        postings.prefetch_arrears(session, [budget.id])
        ledger.record_clearing(replacement.id, 600, source="t", key="new-card")
    balances = ledger.balances(budget.id)
    assert (balances.posted, balances.available) == (0, 0)  # 200p short: in arrears
    arrears = postings.arrears_account_id(session, budget.id)
    assert ledger.balances(arrears).posted == -200
    assert check_balances(session).ok


def test_a_key_read_ahead_as_unused_is_used_once(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    session.commit()
    ledger = CardPayments(session, clock)
    postings.prefetch_keys(session, "t", ["once"])
    first = ledger.record_clearing(card.id, 100, source="t", key="once")
    assert ledger.record_clearing(card.id, 100, source="t", key="once") == first
    assert ledger.balances(budget.id).posted == 900


def test_a_savepoint_released_keeps_its_postings_and_one_rolled_back_forgets_them(
    session: Session, clock: FixedClock
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    session.commit()
    ledger = CardPayments(session, clock)
    with postings.deferred(session):
        postings.prefetch_cards(session, [card.id])
        ledger.record_clearing(card.id, 100, source="t", key="before")
        postings.write_pending(session)  # a savepoint cannot open while postings wait
        with session.begin_nested():
            kept = ledger.record_clearing(card.id, 200, source="t", key="kept")
        # Released: the cache still knows the head and the totals (nothing read again).
        assert postings.lock_head(session).head_id == kept[-1].id
        with pytest.raises(LookupError), session.begin_nested():
            ledger.record_clearing(card.id, 300, source="t", key="undone")
            raise LookupError("the line failed after its posting")
        # Rolled back: the posting is gone, and so is what the cache knew of it (its key
        # is free again, and its id).
        again = ledger.record_clearing(card.id, 250, source="t", key="undone")
        assert again[0].id == kept[-1].id + 1
    assert ledger.balances(budget.id).posted == 1_000 - 100 - 200 - 250
    assert verify_chain(session).ok
    assert check_balances(session).ok
