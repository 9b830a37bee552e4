"""Each ledger operation, and each named way it can fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import postings
from ledger.card_payments import CardPayments
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.errors import (
    AccountClosed,
    AlreadyReversed,
    ExceedsHoldTolerance,
    HoldAlreadyResolved,
    HoldOfAnotherCard,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidRecord,
    NotAHold,
    NotReversible,
    SameAccount,
    UnknownRecord,
)
from ledger.models import Account, AccountKind, Card, CardStatus, Phase, Transfer, TransferCode
from ledger.postings import TransferSpec
from ledger.repositories import accounts as accounts_repo
from tests import factories


@pytest.fixture()
def ledger(session: Session, clock: FixedClock) -> CardPayments:
    return CardPayments(session, clock)


def count_transfers(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def balances_ok(session: Session) -> None:
    report = check_balances(session)
    assert report.ok, report.problems()


def test_load_credits_the_budget_from_council_funding(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    (t,) = ledger.load(budget.id, 96000, source="test", key="load-1", reference="4-weekly")
    assert t.code is TransferCode.LOAD and t.credit_account_id == budget.id
    funding = accounts_repo.get(session, t.debit_account_id)
    assert funding.kind is AccountKind.COUNCIL_FUNDING
    b = ledger.balances(budget.id)
    assert (b.posted, b.available, b.pending_debits) == (96000, 96000, 0)
    balances_ok(session)


def test_emergency_load_is_marked_as_such(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    (t,) = ledger.load(budget.id, 5000, source="test", key="e-1", emergency=True)
    assert t.code is TransferCode.EMERGENCY_LOAD


def test_load_split_between_budget_and_pot_is_linked(session, clock, ledger):
    h = factories.household(session, clock)
    transfers = ledger.load(
        h.budget.id, 10000, source="test", key="split", pot_top_ups={h.pot.id: 3000}
    )
    assert [t.amount for t in transfers] == [7000, 3000]
    assert transfers[0].link_group is not None
    assert transfers[0].link_group == transfers[1].link_group
    assert ledger.balances(h.budget.id).posted == 7000
    assert ledger.balances(h.pot.account_id).posted == 3000
    balances_ok(session)


def test_load_to_a_pot_of_another_budget_changes_nothing(session, clock, ledger):
    h = factories.household(session, clock)
    other = factories.household(session, clock)
    with pytest.raises(InvalidRecord):
        ledger.load(
            h.budget.id, 10000, source="test", key="bad-split", pot_top_ups={other.pot.id: 3000}
        )
    assert ledger.balances(h.budget.id).posted == 0
    assert (
        session.execute(select(Transfer).where(Transfer.idempotency_key == "bad-split")).first()
        is None
    )


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100"])
def test_amounts_must_be_whole_positive_pence(session, clock, ledger, amount):
    _, budget, _ = factories.budget_with_card(session, clock)
    with pytest.raises(InvalidAmount):
        ledger.load(budget.id, amount, source="test", key=f"bad-{amount!r}")


def test_load_onto_something_that_is_not_a_budget_is_refused(session, clock, ledger):
    h = factories.household(session, clock)
    with pytest.raises(InvalidRecord):
        ledger.load(h.pot.account_id, 100, source="test", key="pot-load")
    with pytest.raises(UnknownRecord):
        ledger.load(999999, 100, source="test", key="nowhere")


def test_contribution_is_credited_from_contributions_clearing(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    (t,) = ledger.receive_contribution(budget.id, 8000, source="test", key="c1")
    assert accounts_repo.get(session, t.debit_account_id).kind is AccountKind.CONTRIBUTIONS_CLEARING
    assert ledger.balances(budget.id).posted == 8000


def test_authorise_places_a_hold_that_reserves_funds(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    result = ledger.authorise(
        card.id, 2500, source="test", key="a1", merchant_name="Boots", mcc="5912"
    )
    assert result.approved and result.hold_id is not None
    b = ledger.balances(budget.id)
    assert (b.posted, b.available, b.pending_debits) == (10000, 7500, 2500)
    balances_ok(session)


def test_authorise_declines_with_a_reason_and_writes_no_transfer(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=1000)
    before = count_transfers(session)
    result = ledger.authorise(card.id, 1001, source="test", key="a-big")
    assert not result.approved and result.decline_reason == "insufficient_funds"
    assert result.hold_id is None
    assert count_transfers(session) == before
    assert ledger.balances(budget.id).available == 1000


@pytest.mark.parametrize(
    ("status", "reason"),
    [(CardStatus.SUSPENDED, "card_suspended"), (CardStatus.CLOSED, "card_closed")],
)
def test_authorise_declines_a_blocked_card(session, clock, ledger, status, reason):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    card.status = status
    session.flush()
    before = count_transfers(session)
    # A decision, not an error: recorded with its reason, so a retry stays declined.
    result = ledger.authorise(card.id, 100, source="test", key=f"blocked-{status}")
    assert (result.approved, result.decline_reason) == (False, reason)
    assert count_transfers(session) == before
    assert ledger.balances(budget.id).available == 10000
    card.status = CardStatus.ACTIVE
    session.flush()
    again = ledger.authorise(card.id, 100, source="test", key=f"blocked-{status}")
    assert (again.approved, again.decline_reason) == (False, reason)


def test_a_declined_authorisation_stays_declined_on_retry(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=1000)
    first = ledger.authorise(card.id, 5000, source="test", key="retry")
    ledger.load(budget.id, 10000, source="test", key="top-up")
    again = ledger.authorise(card.id, 5000, source="test", key="retry")
    assert again == first and not again.approved
    assert ledger.balances(budget.id).pending_debits == 0


def test_an_approved_authorisation_replayed_places_no_second_hold(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    first = ledger.authorise(card.id, 3000, source="test", key="once")
    again = ledger.authorise(card.id, 3000, source="test", key="once")
    assert again == first
    assert ledger.balances(budget.id).pending_debits == 3000


def test_authorisation_key_reused_for_another_payment_is_a_conflict(session, clock, ledger):
    _, _, card = factories.budget_with_card(session, clock, loaded=10000)
    ledger.authorise(card.id, 3000, source="test", key="k")
    with pytest.raises(IdempotencyConflict):
        ledger.authorise(card.id, 3001, source="test", key="k")


def test_policy_decline_is_recorded(session, clock, ledger):
    _, _, card = factories.budget_with_card(session, clock, loaded=10000)
    result = ledger.authorise(
        card.id, 100, source="test", key="bet", mcc="7995", policy_decline="blocked_category"
    )
    assert result.decline_reason == "blocked_category"


def test_post_hold_in_full(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 2500, source="test", key="a").hold_id
    (t,) = ledger.post_hold(hold, 2500, source="test", key="p")
    assert t.phase is Phase.POST_PENDING and t.pending_id == hold
    b = ledger.balances(budget.id)
    assert (b.posted, b.available, b.pending_debits) == (7500, 7500, 0)
    balances_ok(session)


def test_post_hold_partly_releases_the_rest(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 2500, source="test", key="a").hold_id
    ledger.post_hold(hold, 1000, source="test", key="p")
    b = ledger.balances(budget.id)
    assert (b.posted, b.available, b.pending_debits) == (9000, 9000, 0)
    balances_ok(session)


def test_post_hold_over_within_tolerance_posts_the_excess(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 5000, source="test", key="a").hold_id
    transfers = ledger.post_hold(hold, 6000, source="test", key="tip")  # 20% over
    assert [t.amount for t in transfers] == [5000, 1000]
    assert ledger.balances(budget.id).posted == 4000
    balances_ok(session)


def test_post_hold_beyond_tolerance_is_refused(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 5000, source="test", key="a").hold_id
    with pytest.raises(ExceedsHoldTolerance):
        ledger.post_hold(hold, 6001, source="test", key="too-much")
    assert ledger.balances(budget.id).pending_debits == 5000


def test_a_hold_resolves_at_most_once(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 2500, source="test", key="a").hold_id
    ledger.void_hold(hold, source="test", key="v")
    with pytest.raises(HoldAlreadyResolved):
        ledger.post_hold(hold, 2500, source="test", key="p")
    with pytest.raises(HoldAlreadyResolved):
        ledger.expire_hold(hold, source="test", key="x")
    b = ledger.balances(budget.id)
    assert (b.posted, b.available) == (10000, 10000)
    balances_ok(session)


def test_expire_hold_releases_funds(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 2500, source="test", key="a").hold_id
    (t,) = ledger.expire_hold(hold, source="test", key="x")
    assert (t.code, t.phase) == (TransferCode.HOLD_EXPIRY, Phase.VOID_PENDING)
    assert ledger.balances(budget.id).available == 10000


def test_only_a_hold_can_be_posted(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    (load,) = ledger.load(budget.id, 100, source="test", key="l")
    with pytest.raises(NotAHold):
        ledger.post_hold(load.id, 100, source="test", key="p")


def test_clearing_with_no_hold_is_a_force_post(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    (t,) = ledger.record_clearing(card.id, 1234, source="test", key="force", mcc="5411")
    assert t.phase is Phase.POSTED and t.card_id == card.id
    assert ledger.balances(budget.id).posted == 10000 - 1234


def test_clearing_beyond_the_funds_is_recorded_with_arrears(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=1000)
    transfers = ledger.record_clearing(card.id, 1500, source="test", key="short")
    assert sorted(t.amount for t in transfers) == [500, 1000]
    arrears = accounts_repo.arrears_account_id(session, budget.id)
    assert ledger.balances(budget.id).posted == 0
    assert ledger.balances(arrears).posted == -500
    balances_ok(session)


def test_clearing_beyond_tolerance_posts_the_hold_and_force_posts_the_rest(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 1000, source="test", key="a").hold_id
    transfers = ledger.record_clearing(card.id, 3000, hold_id=hold, source="test", key="c")
    assert sum(t.amount for t in transfers) == 3000
    b = ledger.balances(budget.id)
    assert (b.posted, b.pending_debits) == (7000, 0)
    balances_ok(session)


def test_clearing_after_its_hold_was_voided_still_settles(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    hold = ledger.authorise(card.id, 1000, source="test", key="a").hold_id
    ledger.void_hold(hold, source="test", key="v")
    ledger.record_clearing(card.id, 1000, hold_id=hold, source="test", key="c")
    assert ledger.balances(budget.id).posted == 9000


@pytest.mark.parametrize("voided", [False, True], ids=["open_hold", "voided_hold"])
def test_clearing_against_a_hold_of_another_card_is_refused(session, clock, ledger, voided):
    h = factories.household(session, clock, loaded=10000, pot=2000)
    hold = ledger.authorise(h.card.id, 1000, source="test", key="a").hold_id
    if voided:
        ledger.void_hold(hold, source="test", key="v")
    before = count_transfers(session)
    with pytest.raises(HoldOfAnotherCard) as refused:
        ledger.record_clearing(h.companion_card.id, 1000, hold_id=hold, source="test", key="c")
    assert isinstance(refused.value, InvalidRecord)
    assert refused.value.code == "hold_of_another_card"
    assert f"hold {hold} was placed for card {h.card.id}" in str(refused.value)
    assert count_transfers(session) == before
    assert ledger.balances(h.budget.id).pending_debits == (0 if voided else 1000)
    assert ledger.balances(h.pot.account_id).posted == 2000
    # Its own card's clearing still settles it.
    ledger.record_clearing(h.card.id, 1000, hold_id=hold, source="test", key="c")
    assert ledger.balances(h.budget.id).posted == 10000 - 2000 - 1000
    balances_ok(session)


def test_companion_spends_only_from_the_pot(session, clock, ledger):
    h = factories.household(session, clock, loaded=50000, pot=2000)
    declined = ledger.authorise(h.companion_card.id, 2001, source="test", key="too-much")
    assert declined.decline_reason == "insufficient_funds"
    approved = ledger.authorise(h.companion_card.id, 2000, source="test", key="ok")
    assert approved.approved
    assert ledger.balances(h.pot.account_id).available == 0
    assert ledger.balances(h.budget.id).available == 48000


def test_pot_allocation_never_exceeds_the_budget(session, clock, ledger):
    h = factories.household(session, clock, loaded=1000)
    with pytest.raises(InsufficientFunds):
        ledger.allocate_to_pot(h.pot.id, 1001, source="test", key="pot")
    ledger.allocate_to_pot(h.pot.id, 1000, source="test", key="pot2")
    ledger.release_from_pot(h.pot.id, 400, source="test", key="rel")
    assert ledger.balances(h.budget.id).posted == 400
    assert ledger.balances(h.pot.account_id).posted == 600
    with pytest.raises(InsufficientFunds):
        ledger.release_from_pot(h.pot.id, 601, source="test", key="rel2")


def test_bank_payments(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock, loaded=100000)
    for code in (
        TransferCode.DIRECT_DEBIT,
        TransferCode.STANDING_ORDER,
        TransferCode.FASTER_PAYMENT,
    ):
        (t,) = ledger.record_bank_payment(
            budget.id, 1000, method=code, payee="Agency", source="test", key=f"bp-{code}"
        )
        assert t.code is code and t.payee == "Agency"
    assert ledger.balances(budget.id).posted == 97000
    with pytest.raises(InvalidRecord):
        ledger.record_bank_payment(
            budget.id,
            1000,
            method=TransferCode.LOAD,
            payee="x",
            source="test",
            key="not-a-bank-payment",
        )


def test_fee_and_refund(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=1000)
    ledger.charge_fee(budget.id, 150, source="test", key="fee")
    (refund,) = ledger.refund(card.id, 500, source="test", key="refund", merchant_name="Argos")
    assert refund.credit_account_id == budget.id
    assert ledger.balances(budget.id).posted == 1350
    balances_ok(session)


def test_clawback_with_fee_is_linked_and_never_overdraws(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock, loaded=10000)
    ledger.authorise(card.id, 3000, source="test", key="hold")
    with pytest.raises(InsufficientFunds):
        ledger.clawback(budget.id, 7000, fee=1, source="test", key="cb1")
    assert ledger.balances(budget.id).available == 7000  # the linked fee made it too much
    transfers = ledger.clawback(budget.id, 6900, fee=100, source="test", key="cb2")
    assert [t.code for t in transfers] == [TransferCode.CLAWBACK, TransferCode.FEE]
    assert ledger.balances(budget.id).available == 0
    balances_ok(session)


def test_reversal_undoes_a_transfer_once(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock, loaded=1000)
    (fee,) = ledger.charge_fee(budget.id, 150, source="test", key="fee")
    (rev,) = ledger.reverse(fee.id, source="test", key="rev")
    assert rev.reverses_id == fee.id and rev.credit_account_id == budget.id
    assert ledger.balances(budget.id).posted == 1000
    with pytest.raises(AlreadyReversed):
        ledger.reverse(fee.id, source="test", key="rev-again")
    with pytest.raises(NotReversible):
        ledger.reverse(rev.id, source="test", key="rev-rev")


def test_reversing_a_load_that_was_spent_is_refused(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock)
    (load,) = ledger.load(budget.id, 1000, source="test", key="l")
    ledger.authorise(card.id, 600, source="test", key="a")
    with pytest.raises(InsufficientFunds):
        ledger.reverse(load.id, source="test", key="rev")


def test_a_hold_cannot_be_reversed(session, clock, ledger):
    _, _, card = factories.budget_with_card(session, clock, loaded=1000)
    hold = ledger.authorise(card.id, 600, source="test", key="a").hold_id
    with pytest.raises(NotReversible):
        ledger.reverse(hold, source="test", key="rev")


def test_a_transfer_from_an_account_to_itself_is_refused(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock, loaded=1000)
    before = count_transfers(session)
    with pytest.raises(SameAccount) as refused:
        postings.post(
            session,
            source="test",
            key="to-itself",
            request={"op": "to_itself"},
            build=lambda: [TransferSpec(budget.id, budget.id, 100, TransferCode.POT_ALLOCATION)],
            effective_at=clock.now(),
            created_at=clock.now(),
        )
    assert refused.value.code == "same_account"
    assert count_transfers(session) == before
    assert ledger.balances(budget.id).posted == 1000
    balances_ok(session)


def test_closed_account_takes_no_new_postings(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock, loaded=1000)
    session.get(Account, budget.id).closed = True
    session.flush()
    with pytest.raises(AccountClosed):
        ledger.load(budget.id, 100, source="test", key="after-close")


def test_same_key_same_request_returns_the_original(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    first = ledger.load(budget.id, 500, source="test", key="dup")
    clock.advance(minutes=5)
    again = ledger.load(budget.id, 500, source="test", key="dup")
    assert again == first
    assert ledger.balances(budget.id).posted == 500


def test_same_key_other_request_is_a_conflict(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    ledger.load(budget.id, 500, source="test", key="dup")
    with pytest.raises(IdempotencyConflict) as error:
        ledger.load(budget.id, 501, source="test", key="dup")
    assert error.value.code == "idempotency_conflict"
    assert ledger.balances(budget.id).posted == 500


def test_keys_are_unique_per_source(session, clock, ledger):
    _, budget, _ = factories.budget_with_card(session, clock)
    ledger.load(budget.id, 500, source="stripe", key="evt_1")
    ledger.load(budget.id, 700, source="marqeta", key="evt_1")
    assert ledger.balances(budget.id).posted == 1200


def test_statement_for_a_period(session, clock, ledger):
    _, budget, card = factories.budget_with_card(session, clock)
    start = clock.now()
    ledger.load(budget.id, 10000, source="test", key="l1")
    clock.advance(days=1)
    ledger.record_clearing(card.id, 2500, source="test", key="c1", merchant_name="Boots")
    clock.advance(days=30)
    ledger.load(budget.id, 10000, source="test", key="l2")
    statement = ledger.statement(budget.id, start + timedelta(hours=1), start + timedelta(days=31))
    assert statement.opening_balance == 10000
    assert [(line.money_in, line.money_out, line.balance) for line in statement.lines] == [
        (0, 2500, 7500)
    ]
    assert statement.lines[0].description == "Card spend: Boots"
    assert statement.closing_balance == 7500
    with pytest.raises(InvalidRecord):
        ledger.statement(budget.id, start, start)


def test_card_rows_keep_only_the_last_four_digits(session, clock):
    _, _, card = factories.budget_with_card(session, clock)
    columns = {c.name for c in Card.__table__.columns}
    assert "last4" in columns and not any("pan" in c or "number" in c for c in columns)
    assert len(session.get(Card, card.id).last4) == 4
