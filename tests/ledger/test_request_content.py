"""What a key's request is: the same key with other content is a conflict, the same key
with the same content (described another way, brought by another message) the original.

What the council asks for (loads, contributions, clawbacks, hold resolutions) is every
field the caller gives but the inbox event that brought it; an authorisation is the
payment it decides on; a settlement the provider reports (clearing, refund, bank payment,
fee) is its money movement: card or account, amount, code, the provider's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.errors import IdempotencyConflict
from ledger.models import Authorisation, Transfer, TransferCode
from tests import factories

AT = datetime(2026, 4, 6, 9, 30, tzinfo=UTC)
LATER = AT + timedelta(minutes=1)
# The same instant as AT, written in British Summer Time.
AT_IN_BST = AT.astimezone(timezone(timedelta(hours=1)))


def _count(session: Session, model: type[Transfer] | type[Authorisation]) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _conflicts(session: Session, call: Callable[[], object]) -> None:
    """``call`` is refused as a conflict and writes nothing."""
    before = (_count(session, Transfer), _count(session, Authorisation))
    with pytest.raises(IdempotencyConflict):
        call()
    assert (_count(session, Transfer), _count(session, Authorisation)) == before


@pytest.fixture()
def ledger(session: Session, clock: FixedClock) -> CardPayments:
    return CardPayments(session, clock)


# -- what the council asks for -------------------------------------------------------


def test_a_load_at_another_time_is_another_load_whatever_message_brings_it(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, _card = factories.budget_with_card(session, clock)
    first = ledger.load(budget.id, 5_000, source="p", key="L", effective_at=AT, inbound_event_id=1)
    _conflicts(
        session, lambda: ledger.load(budget.id, 5_000, source="p", key="L", effective_at=LATER)
    )
    _conflicts(session, lambda: ledger.load(budget.id, 5_000, source="p", key="L"))
    # The same load, by webhook (inbox event 2) or by statement line (no inbox event), at
    # the same moment written in another zone: the original.
    assert ledger.load(budget.id, 5_000, source="p", key="L", effective_at=AT_IN_BST) == first
    again = ledger.load(budget.id, 5_000, source="p", key="L", effective_at=AT, inbound_event_id=2)
    assert again == first
    assert ledger.load(budget.id, 5_000, source="p", key="L", effective_at=AT) == first
    assert ledger.balances(budget.id).posted == 5_000


def test_contributions_and_clawbacks_include_their_time(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, _card = factories.budget_with_card(session, clock, loaded=10_000)
    ledger.receive_contribution(budget.id, 300, source="p", key="C", effective_at=AT)
    _conflicts(
        session,
        lambda: ledger.receive_contribution(
            budget.id, 300, source="p", key="C", effective_at=LATER
        ),
    )
    ledger.clawback(budget.id, 1_000, source="p", key="U", effective_at=AT)
    _conflicts(
        session, lambda: ledger.clawback(budget.id, 1_000, source="p", key="U", effective_at=LATER)
    )
    assert len(ledger.clawback(budget.id, 1_000, source="p", key="U", effective_at=AT_IN_BST)) == 1
    assert ledger.balances(budget.id).posted == 10_000 + 300 - 1_000


def test_a_hold_posted_or_voided_at_another_time_is_another_request(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    one = ledger.authorise(card.id, 1_000, source="p", key="A1")
    two = ledger.authorise(card.id, 500, source="p", key="A2")
    assert one.hold_id is not None and two.hold_id is not None
    posted = ledger.post_hold(one.hold_id, 1_000, source="p", key="P", effective_at=AT)
    _conflicts(
        session,
        lambda: ledger.post_hold(one.hold_id, 1_000, source="p", key="P", effective_at=LATER),
    )
    assert ledger.post_hold(one.hold_id, 1_000, source="p", key="P", effective_at=AT) == posted
    ledger.void_hold(two.hold_id, source="p", key="V", effective_at=AT)
    _conflicts(session, lambda: ledger.void_hold(two.hold_id, source="p", key="V"))
    assert ledger.balances(budget.id).available == 9_000


# -- a decision on a payment -----------------------------------------------------------


def test_an_authorisation_for_another_category_is_another_payment(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, _budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    payment = {"merchant_name": "Shop", "mcc": "5411", "category": "wellbeing"}
    first = ledger.authorise(card.id, 1_000, source="p", key="A", **payment)
    assert first.approved
    _conflicts(
        session,
        lambda: ledger.authorise(
            card.id, 1_000, source="p", key="A", **{**payment, "category": "equipment"}
        ),
    )
    _conflicts(
        session,
        lambda: ledger.authorise(
            card.id,
            1_000,
            source="p",
            key="A",
            **{**payment, "category": "equipment"},
            policy_decline="blocked_category",
        ),
    )
    assert ledger.authorise(card.id, 1_000, source="p", key="A", **payment) == first


def test_a_verdict_worked_out_again_on_a_retry_does_not_change_the_decision(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    """The caller's policy verdict is not part of the payment: on a retry it may differ
    (an approved cash withdrawal's own hold now counts against the cash allowance), and
    what was decided stands, approved or declined."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    approved = ledger.authorise(card.id, 2_000, source="p", key="cash", mcc="6011")
    again = ledger.authorise(
        card.id, 2_000, source="p", key="cash", mcc="6011", policy_decline="cash_allowance_exceeded"
    )
    assert again == approved and again.approved
    declined = ledger.authorise(
        card.id,
        3_000,
        source="p",
        key="cash-2",
        mcc="6011",
        policy_decline="cash_allowance_exceeded",
    )
    assert ledger.authorise(card.id, 3_000, source="p", key="cash-2", mcc="6011") == declined
    assert not declined.approved
    assert ledger.balances(budget.id).available == 8_000


# -- settlements the provider reports ---------------------------------------------------


def test_a_clearing_reported_against_its_hold_and_by_a_statement_line_is_one_clearing(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    hold = ledger.authorise(card.id, 1_200, source="p", key="auth", merchant_name="SHOP LTD")
    assert hold.hold_id is not None
    by_webhook = ledger.record_clearing(
        card.id, 1_200, source="p", key="clr", hold_id=hold.hold_id,
        merchant_name="SHOP LTD", mcc="5411", category="wellbeing", inbound_event_id=7,
        effective_at=AT,
    )  # fmt: skip
    # The statement line: no authorisation id, the merchant spelt its own way, no MCC.
    by_statement = ledger.record_clearing(
        card.id, 1_200, source="p", key="clr", merchant_name="Shop Ltd", effective_at=AT
    )
    assert by_statement == by_webhook
    # Another amount, time, card or code under the key is another settlement.
    _, _, other_card = factories.budget_with_card(session, clock, loaded=10_000)
    for other in (
        {"card_id": card.id, "amount": 1_300, "effective_at": AT},
        {"card_id": card.id, "amount": 1_200, "effective_at": LATER},
        {"card_id": other_card.id, "amount": 1_200, "effective_at": AT},
        {"card_id": card.id, "amount": 1_200, "effective_at": AT,
         "code": TransferCode.CASH_WITHDRAWAL},
    ):  # fmt: skip
        _conflicts(session, lambda o=other: ledger.record_clearing(source="p", key="clr", **o))
    assert ledger.balances(budget.id).posted == 10_000 - 1_200
    assert check_balances(session).ok and verify_chain(session).ok


def test_a_refund_described_another_way_is_the_same_refund(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    first = ledger.refund(
        card.id, 250, source="p", key="R", merchant_name="Shop", mcc="5411",
        category="wellbeing", effective_at=AT, inbound_event_id=3,
    )  # fmt: skip
    again = ledger.refund(
        card.id, 250, source="p", key="R", merchant_name="SHOP", category=None, effective_at=AT
    )
    assert again == first
    _conflicts(session, lambda: ledger.refund(card.id, 260, source="p", key="R", effective_at=AT))
    _conflicts(
        session, lambda: ledger.refund(card.id, 250, source="p", key="R", effective_at=LATER)
    )
    assert ledger.balances(budget.id).posted == 10_000 + 250


def test_a_bank_payment_or_fee_described_another_way_is_the_same_one(
    session: Session, clock: FixedClock, ledger: CardPayments
) -> None:
    _, budget, _card = factories.budget_with_card(session, clock, loaded=10_000)
    dd = TransferCode.DIRECT_DEBIT
    first = ledger.record_bank_payment(
        budget.id, 4_000, method=dd, payee="Agency Ltd", reference="INV 1", source="p",
        key="B", effective_at=AT,
    )  # fmt: skip
    again = ledger.record_bank_payment(
        budget.id, 4_000, method=dd, payee="AGENCY LIMITED", source="p", key="B", effective_at=AT
    )
    assert again == first
    _conflicts(
        session,
        lambda: ledger.record_bank_payment(
            budget.id,
            4_000,
            method=TransferCode.STANDING_ORDER,
            payee="Agency Ltd",
            source="p",
            key="B",
            effective_at=AT,
        ),
    )
    _conflicts(
        session,
        lambda: ledger.record_bank_payment(
            budget.id,
            4_000,
            method=dd,
            payee="Agency Ltd",
            source="p",
            key="B",
            effective_at=LATER,
        ),
    )
    fee = ledger.charge_fee(
        budget.id, 150, source="p", key="F", reference="Monthly", effective_at=AT
    )
    assert ledger.charge_fee(budget.id, 150, source="p", key="F", effective_at=AT) == fee
    _conflicts(session, lambda: ledger.charge_fee(budget.id, 150, source="p", key="F"))
    assert ledger.balances(budget.id).posted == 10_000 - 4_000 - 150
