"""The real-time decision: status, funds (the pot for a companion), blocks, cash allowance."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from adapters.authorisation import AuthorisationPolicy, PaymentRequest, decide, period_start
from adapters.canonical import EventKind
from adapters.mcc import ALCOHOL_MCCS, DEFAULT_BLOCKED_MCCS
from adapters.repositories.cards import card_ref
from adapters.simulated import SimulatedProvider
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import CardKind, CardStatus, PlanCategory, PlanKind
from ledger.service import Ledger
from tests import factories


def _request(
    key: str, amount: int, mcc: str = "5411", cash: bool = False, currency: str = "GBP"
) -> PaymentRequest:
    return PaymentRequest(
        key=key, amount=amount, currency=currency, merchant_name="M", mcc=mcc, cash=cash
    )


def _cash_card(session: Session, clock: FixedClock, allowance: int):
    enrol = Enrolment(session, clock)
    who = factories.person(session, clock)
    budget = enrol.open_personal_budget(who)
    enrol.agree_plan(
        who, budget, kind=PlanKind.CARE_AND_SUPPORT, budget_per_period=100_000,
        starts_on=date(2026, 3, 9), review_date=date(2026, 9, 1),
        lines=[PlanLineSpec(PlanCategory.PA_WAGES, "PA", 100_000)],
        cash_allowance_per_period=allowance,
    )  # fmt: skip
    card = enrol.issue_card(
        who, kind=CardKind.PRIMARY, provider="simulated",
        provider_card_token=f"cash-{who.id}", last4="1111", budget=budget,
    )  # fmt: skip
    Ledger(session, clock).load(budget.id, 100_000, source="test", key=f"cash-load-{budget.id}")
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    return budget, ref


def test_cash_within_the_plan_allowance_for_the_period(session: Session, clock: FixedClock) -> None:
    _, card = _cash_card(session, clock, allowance=5_000)
    first = decide(
        session, clock, card, _request("c1", 3_000, "6011", cash=True), source="simulated"
    )
    second = decide(
        session, clock, card, _request("c2", 3_000, "6011", cash=True), source="simulated"
    )
    third = decide(
        session, clock, card, _request("c3", 2_000, "6011", cash=True), source="simulated"
    )
    assert (first.approved, second.approved, second.reason, third.approved) == (
        True, False, "cash_allowance_exceeded", True,
    )  # fmt: skip
    # A new four-weekly period (plan started 9 March: periods from 6 April, 4 May …).
    clock.advance(days=28)
    assert decide(
        session, clock, card, _request("c4", 5_000, "6011", cash=True), source="simulated"
    ).approved


def test_released_cash_holds_give_the_allowance_back(session: Session, clock: FixedClock) -> None:
    _, card = _cash_card(session, clock, allowance=5_000)
    sim = SimulatedProvider(session, clock)
    pid, answer = sim.purchase(card.token, 5_000, mcc="6011")
    assert answer["approved"]
    _, answer = sim.purchase(card.token, 100, mcc="6010")
    assert answer["decline_reason"] == "cash_allowance_exceeded"
    sim.follow_up(EventKind.REVERSAL, card.token, pid, full=True)
    _, answer = sim.purchase(card.token, 5_000, mcc="6011")
    assert answer["approved"]


def test_no_cash_without_an_allowance(session: Session, clock: FixedClock) -> None:
    _, card = _cash_card(session, clock, allowance=0)
    decision = decide(
        session, clock, card, _request("c", 100, "6011", cash=True), source="simulated"
    )
    assert decision.reason == "cash_allowance_exceeded"


def test_period_start() -> None:
    assert period_start(date(2026, 3, 9), 4, date(2026, 4, 5)) == date(2026, 3, 9)
    assert period_start(date(2026, 3, 9), 4, date(2026, 4, 6)) == date(2026, 4, 6)
    assert period_start(date(2026, 3, 9), 2, date(2026, 4, 6)) == date(2026, 4, 6)
    assert period_start(date(2026, 5, 1), 4, date(2026, 4, 6)) == date(2026, 5, 1)


def test_companion_card_spends_its_pot_only(session: Session, clock: FixedClock) -> None:
    home = factories.household(session, clock, loaded=50_000, pot=2_000)
    companion = card_ref(session, "simulated", home.companion_card.provider_card_token)
    assert companion is not None and companion.budget_account_id == home.budget.id
    over = decide(session, clock, companion, _request("p1", 2_500), source="simulated")
    within = decide(session, clock, companion, _request("p2", 2_000), source="simulated")
    assert (over.approved, over.reason, within.approved) == (False, "insufficient_funds", True)
    assert Ledger(session, clock).balances(home.budget.id).available == 48_000


@pytest.mark.parametrize("status", [CardStatus.SUSPENDED, CardStatus.CLOSED])
def test_card_status(session: Session, clock: FixedClock, status: CardStatus) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=10_000)
    card.status = status
    session.flush()
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    decision = decide(session, clock, ref, _request("s", 100), source="simulated")
    assert decision.reason == f"card_{status.value}"


def test_blocked_categories_and_currency(session: Session, clock: FixedClock) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=10_000)
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    for mcc in sorted(DEFAULT_BLOCKED_MCCS):
        assert (
            decide(session, clock, ref, _request(f"b{mcc}", 100, mcc), source="simulated").reason
            == "blocked_category"
        )
    assert decide(session, clock, ref, _request("wine", 100, "5921"), source="simulated").approved
    strict = AuthorisationPolicy(blocked_mccs=DEFAULT_BLOCKED_MCCS | ALCOHOL_MCCS)
    assert (
        decide(
            session, clock, ref, _request("wine2", 100, "5921"), source="simulated", policy=strict
        ).reason
        == "blocked_category"
    )
    usd = decide(session, clock, ref, _request("usd", 100, currency="USD"), source="simulated")
    assert usd.reason == "currency_not_supported"


def test_a_retried_request_gets_the_same_answer(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=1_000)
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    declined = decide(session, clock, ref, _request("r1", 5_000), source="simulated")
    Ledger(session, clock).load(budget.id, 10_000, source="test", key="more")
    again = decide(session, clock, ref, _request("r1", 5_000), source="simulated")
    assert (declined.approved, again.approved, again.reason) == (False, False, "insufficient_funds")


def test_a_policy_from_the_councils_blocked_categories(session: Session, clock: FixedClock) -> None:
    policy = AuthorisationPolicy.blocking(["gambling", "alcohol", "no_such_category"])
    assert policy.blocked_mccs == DEFAULT_BLOCKED_MCCS | ALCOHOL_MCCS
    _, _, card = factories.budget_with_card(session, clock, loaded=10_000)
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    wine = decide(session, clock, ref, _request("w1", 100, "5921"), source="sim", policy=policy)
    assert wine.reason == "blocked_category"


def test_a_plan_line_agreeing_a_blocked_category_is_an_exception(
    session: Session, clock: FixedClock
) -> None:
    """As monitoring does, a real-time block gives way where the plan agrees the category."""
    enrol = Enrolment(session, clock)
    who = factories.person(session, clock)
    budget = enrol.open_personal_budget(who)
    enrol.agree_plan(
        who, budget, kind=PlanKind.CARE_AND_SUPPORT, budget_per_period=100_000,
        starts_on=date(2026, 3, 9), review_date=date(2026, 9, 1),
        lines=[PlanLineSpec(PlanCategory.DAY_ACTIVITY, "Social club", 10_000,
                            merchant_categories=["5813"])],
    )  # fmt: skip
    card = enrol.issue_card(
        who, kind=CardKind.PRIMARY, provider="simulated",
        provider_card_token=f"club-{who.id}", last4="2222", budget=budget,
    )  # fmt: skip
    Ledger(session, clock).load(budget.id, 10_000, source="test", key=f"club-{budget.id}")
    ref = card_ref(session, "simulated", card.provider_card_token)
    assert ref is not None
    policy = AuthorisationPolicy.blocking(["gambling", "alcohol"])
    club = decide(session, clock, ref, _request("x1", 500, "5813"), source="sim", policy=policy)
    shop = decide(session, clock, ref, _request("x2", 500, "5921"), source="sim", policy=policy)
    assert (club.approved, shop.reason) == (True, "blocked_category")
