"""Canonical events: exact amounts, per-kind rules, and the MCC mapping."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from adapters import mcc
from adapters.canonical import (
    MAX_AMOUNT,
    CanonicalEventSchema,
    EventKind,
    check_event,
    load_event,
)
from adapters.errors import MalformedPayload
from ledger.models import PlanCategory


def _event(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "clearing",
        "event_id": "tx-1",
        "occurred_at": "2026-04-06T10:00:00+01:00",
        "card": "tok",
        "amount": "12.34",
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("given", "pence"),
    [
        ("12.34", 1234),
        ("0.01", 1),
        (Decimal("10.5"), 1050),
        (10, 1000),
        ("1234.50", 123450),
        ("1000000000.00", MAX_AMOUNT),
    ],
)
def test_amounts_become_exact_pence(given: object, pence: int) -> None:
    assert load_event(_event(amount=given)).amount == pence


@pytest.mark.parametrize("given", ["1.234", 12.34, "-1.00", "ten", True, "NaN"])
def test_inexact_or_negative_amounts_are_refused(given: object) -> None:
    with pytest.raises(MalformedPayload):
        load_event(_event(amount=given))


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("£1,234.50", "no £ sign"),
        ("1,234.50", "no commas"),
        (" 12.00", "written plainly"),
        ("1e3", "written plainly"),
        ("1000000000.01", "£1,000,000,000"),
        ("99999999999999999999.99", "written plainly"),
        (10**30, "at most £1,000,000,000"),
        (Decimal("1E+999999"), "at most £1,000,000,000"),
    ],
)
def test_amounts_not_plainly_written_or_too_large_are_refused(given: object, said: str) -> None:
    with pytest.raises(MalformedPayload) as refused:
        load_event(_event(amount=given))
    assert said in refused.value.detail
    with pytest.raises(MalformedPayload):
        load_event(_event(merchant_amount=given, merchant_currency="EUR"))


def test_an_event_built_directly_is_bounded_too() -> None:
    """The statement reader builds events itself: ``check_event`` holds the bound."""
    event = load_event(_event())
    huge = replace(event, amount=MAX_AMOUNT + 1, merchant_amount=-(MAX_AMOUNT + 1))
    problems = check_event(huge)
    assert [p.split(" ")[0] for p in problems if "£1,000,000,000" in p] == [
        "amount",
        "merchant_amount",
    ]
    assert check_event(replace(event, amount=MAX_AMOUNT)) == []


def test_times_are_aware_utc() -> None:
    event = load_event(_event())
    assert event.occurred_at.isoformat() == "2026-04-06T09:00:00+00:00"
    with pytest.raises(MalformedPayload):
        load_event(_event(occurred_at="2026-04-06T10:00:00"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "reversal"}, "payment_id"),
        ({"kind": "direct_debit"}, "payee"),
        ({"kind": "load", "amount": "0"}, "above zero"),
        ({"mcc": "12a4"}, "mcc"),
        ({"currency": "gbp"}, "currency"),
        ({"surprise": 1}, "Unknown field"),
        ({"kind": "card_status"}, "card_status"),
    ],
)
def test_per_kind_rules(changes: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        load_event(_event(**changes))


def test_a_full_reversal_needs_no_amount_and_round_trips() -> None:
    event = load_event(_event(kind="reversal", payment_id="a", amount="0", full=True))
    assert event.kind is EventKind.REVERSAL and event.full
    again = CanonicalEventSchema().load(event.to_dict())
    assert again == event


def test_foreign_merchant_amount_is_kept_for_display() -> None:
    event = load_event(_event(merchant_amount="10.00", merchant_currency="EUR"))
    assert (event.amount, event.merchant_amount, event.merchant_currency) == (1234, 1000, "EUR")
    assert event.to_dict()["merchant_amount"] == "10.00"


def test_every_kind_in_the_design_is_there() -> None:
    assert {k.value for k in EventKind} >= {
        "load", "contribution", "authorisation_request", "authorisation_advice",
        "incremental_authorisation", "reversal", "expiry", "clearing", "refund",
        "direct_debit", "standing_order", "faster_payment", "fee", "unload", "decline",
    }  # fmt: skip


class TestMerchantCategories:
    def test_descriptions_come_from_iso18245(self) -> None:
        found = mcc.describe("7995")
        assert found is not None
        assert found.stripe_code == "betting_casino_gambling"
        assert found.range_description == "Amusement and entertainment"
        assert mcc.describe("0001") is None

    def test_stripe_category_names(self) -> None:
        assert mcc.mcc_for_stripe_category("taxicabs_limousines") == "4121"
        assert mcc.mcc_for_stripe_category("no_such_category") is None

    def test_plan_categories(self) -> None:
        assert mcc.plan_category("6011") is PlanCategory.CASH
        assert mcc.plan_category("4121") is PlanCategory.TRANSPORT  # by range
        assert mcc.plan_category("8050") is PlanCategory.AGENCY_CARE
        assert mcc.plan_category("7995") is None  # gambling is never in a plan
        # Supermarkets count as wellbeing (ledger/categories.py says why): one map for all.
        assert mcc.plan_category("5411") is PlanCategory.WELLBEING
        assert mcc.plan_category(None) is None

    def test_blocked_by_default(self) -> None:
        assert "7995" in mcc.DEFAULT_BLOCKED_MCCS
        assert mcc.is_cash("6010") and mcc.is_cash("6011") and not mcc.is_cash("5411")
