"""Marqeta Gateway JIT Funding: every money-out method decided, money in approved without a
hold, notifications acknowledged, anything else declined; the gateway's own Basic Auth."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from adapters import inbox, marqeta
from adapters.marqeta_gateway import handle_gateway, split_gateway
from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import Card, CardKind, CardStatus, PlanCategory, PlanKind
from ledger.service import Ledger
from tests import factories
from tests.adapters.marqeta_support import (
    GATEWAY_PASSWORD,
    GATEWAY_USER,
    SECRETS,
    MarqetaSender,
    basic,
)

LOADED = 10_000


def _setup(session: Session, clock: FixedClock) -> tuple[int, Card, MarqetaSender]:
    _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
    card.provider = "marqeta"
    card.provider_card_token = f"mq-card-{card.id}"
    session.flush()
    return budget.id, card, MarqetaSender(clock, card.provider_card_token)


def _cash_setup(
    session: Session, clock: FixedClock, allowance: int
) -> tuple[int, Card, MarqetaSender]:
    """A Marqeta card on a plan allowing ``allowance`` pence of cash a period."""
    enrol = Enrolment(session, clock)
    who = factories.person(session, clock)
    budget = enrol.open_personal_budget(who)
    enrol.agree_plan(
        who, budget, kind=PlanKind.CARE_AND_SUPPORT, budget_per_period=100_000,
        starts_on=date(2026, 4, 6), review_date=date(2026, 10, 6),
        lines=[PlanLineSpec(PlanCategory.PA_WAGES, "PA", 100_000)],
        cash_allowance_per_period=allowance,
    )  # fmt: skip
    card = enrol.issue_card(
        who, kind=CardKind.PRIMARY, provider="marqeta",
        provider_card_token=f"mq-cash-{who.id}", last4="4242", budget=budget,
    )  # fmt: skip
    Ledger(session, clock).load(budget.id, LOADED, source="test", key=f"mq-cash-{budget.id}")
    return budget.id, card, MarqetaSender(clock, card.provider_card_token)


def _gateway(session: Session, clock: FixedClock, body: bytes, **headers: str):
    return handle_gateway(
        session, body, {**MarqetaSender.gateway_headers(), **headers}, clock, SECRETS
    )


def _balances(session: Session, clock: FixedClock, budget_id: int) -> tuple[int, int]:
    b = Ledger(session, clock).balances(budget_id)
    return b.posted, b.available


def _reason(response) -> str | None:
    reason: str | None = response.json_body["jit_funding"].get("decline_reason")
    return reason


def test_approve_then_the_webhook_is_a_duplicate(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    r = _gateway(session, clock, m.jit("j1", "12.50"))
    assert r.status == 200
    assert r.json_body["jit_funding"]["amount"] == "12.50"
    assert r.json_body["jit_funding"]["token"] == "jit_j1"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_250)
    again = _gateway(session, clock, m.jit("j1", "12.50"))
    assert (again.status, again.json_body) == (r.status, r.json_body)
    hook = marqeta.handle_webhook(
        session,
        body := m.body(m.transaction("authorization", "j1", "12.50")),
        MarqetaSender.headers(body),
        clock,
        SECRETS,
    )
    assert hook.json_body["received"][0]["status"] == "duplicate"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_250)


def test_decline_is_402_with_a_reason(session: Session, clock: FixedClock) -> None:
    _, _, m = _setup(session, clock)
    r = _gateway(session, clock, m.jit("j2", "500.00"))
    assert (r.status, _reason(r)) == (402, "INSUFFICIENT_FUNDS")
    r = _gateway(session, clock, m.jit("j3", "5.00", mcc="7995"))
    assert _reason(r) == "INVALID_MERCHANT"
    r = _gateway(session, clock, m.jit("j4", "5.00", currency="USD"))
    assert _reason(r) == "TRANSACTION_NOT_PERMITTED"


def test_incremental_and_balance_inquiry(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    assert _gateway(session, clock, m.jit("j5", "10")).status == 200
    inc = m.jit("j5-inc", "2.5", method="pgfs.authorization.incremental", preceding="j5")
    assert _gateway(session, clock, inc).status == 200
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_250)
    inquiry = _gateway(session, clock, m.jit("j6", "0", method="pgfs.balanceinquiry"))
    assert inquiry.json_body["jit_funding"]["balances"]["GBP"]["available_balance"] == "87.50"


def test_unknown_card_is_declined(session: Session, clock: FixedClock) -> None:
    _setup(session, clock)
    r = _gateway(session, clock, MarqetaSender(clock, "nobody").jit("j7", "1.00"))
    assert (r.status, _reason(r)) == (402, "INVALID_CARD")


@pytest.mark.parametrize(
    "method", ["pgfs.atm.withdrawal", "pgfs.pindebit.atm.withdrawal", "pgfs.pindebit"]
)
def test_money_out_on_a_suspended_card_is_declined(
    session: Session, clock: FixedClock, method: str
) -> None:
    budget_id, card, m = _setup(session, clock)
    card.status = CardStatus.SUSPENDED
    session.flush()
    r = _gateway(session, clock, m.jit(f"s-{method}", "20.00", method=method, mcc="6011"))
    assert (r.status, _reason(r)) == (402, "CARD_NOT_ACTIVE")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


@pytest.mark.parametrize("method", ["pgfs.atm.withdrawal", "pgfs.pindebit.atm.withdrawal"])
def test_atm_withdrawals_count_against_the_cash_allowance(
    session: Session, clock: FixedClock, method: str
) -> None:
    budget_id, _, m = _cash_setup(session, clock, allowance=5_000)
    # The terminal's category code need not say cash: the method does.
    first = _gateway(session, clock, m.jit("atm-1", "30.00", method=method, mcc="5411"))
    assert first.status == 200
    over = _gateway(session, clock, m.jit("atm-2", "30.00", method=method, mcc="5411"))
    assert (over.status, _reason(over)) == (402, "AMOUNT_LIMIT_EXCEEDED")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 3_000)


@pytest.mark.parametrize(
    "method",
    [
        "pgfs.auth_plus_capture",
        "pgfs.authorization.quasi.cash",
        "pgfs.authorization.cashback",
        "pgfs.pindebit.cashback",
        "pgfs.pindebit.quasi.cash",
    ],
)
def test_every_money_out_method_is_decided(
    session: Session, clock: FixedClock, method: str
) -> None:
    budget_id, _, m = _setup(session, clock)
    ok = _gateway(session, clock, m.jit(f"ok-{method}", "40.00", method=method))
    assert ok.status == 200
    short = _gateway(session, clock, m.jit(f"no-{method}", "70.00", method=method))
    assert (short.status, _reason(short)) == (402, "INSUFFICIENT_FUNDS")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 4_000)


def test_pin_debit_is_held_then_settled_once_by_the_webhook(
    session: Session, clock: FixedClock
) -> None:
    budget_id, _, m = _setup(session, clock)
    assert _gateway(session, clock, m.jit("pd1", "12.00", method="pgfs.pindebit")).status == 200
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_200)
    body = m.body(m.transaction("pindebit", "pd1", "12.00", state="COMPLETION"))
    hook = marqeta.handle_webhook(session, body, MarqetaSender.headers(body), clock, SECRETS)
    assert hook.json_body["received"][0]["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED - 1_200,) * 2


def test_a_decline_after_our_approval_ends_the_hold(session: Session, clock: FixedClock) -> None:
    """Our approval came too late and Marqeta declined: the webhook's DECLINED ends the hold."""
    budget_id, _, m = _setup(session, clock)
    assert _gateway(session, clock, m.jit("late1", "25.00")).status == 200
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 2_500)
    tx = m.transaction("authorization", "late1", "25.00", state="DECLINED")
    tx["response"] = {"code": "1835", "memo": "JIT funding timed out"}
    body = m.body(tx)
    hook = marqeta.handle_webhook(session, body, MarqetaSender.headers(body), clock, SECRETS)
    assert hook.json_body["received"][0]["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_a_stand_in_approval_after_our_decline_is_held(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    declined = _gateway(session, clock, m.jit("si1", "15.00", mcc="7995"))
    assert _reason(declined) == "INVALID_MERCHANT"
    body = m.body(m.transaction("authorization", "si1", "15.00", mcc="7995"))
    hook = marqeta.handle_webhook(session, body, MarqetaSender.headers(body), clock, SECRETS)
    assert hook.json_body["received"][0]["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_500)


def test_a_request_decided_by_another_delivery_is_answered_from_its_decision(
    session: Session, clock: FixedClock
) -> None:
    budget_id, _, m = _setup(session, clock)
    body = m.jit("race1", "30.00")
    (stored,) = inbox.store(
        session, provider="marqeta", channel="gateway", body=body, headers={},
        received_at=clock.now(), events=split_gateway(body),
    )  # fmt: skip
    inbox.apply_event(session, stored.inbox_id, clock, live=True)  # no answer recorded
    session.commit()
    r = _gateway(session, clock, body)
    assert (r.status, r.json_body["jit_funding"]["amount"]) == (200, "30.00")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 3_000)


def test_money_in_is_approved_without_a_hold(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    for method in ("pgfs.refund.authorization", "pgfs.original.credit.authorization"):
        r = _gateway(session, clock, m.jit(f"in-{method}", "5.00", method=method))
        assert r.status == 200 and "decline_reason" not in r.json_body["jit_funding"]
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_notifications_are_acknowledged(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    r = _gateway(session, clock, m.jit("n1", "5.00", method="pgfs.authorization.clearing"))
    assert r.status == 200
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_an_unknown_method_is_declined(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    body = m.jit("u1", "5.00", method="pgfs.something.new")
    r = _gateway(session, clock, body)
    assert (r.status, _reason(r)) == (402, "TRANSACTION_NOT_PERMITTED")
    again = _gateway(session, clock, body)
    assert (again.status, again.json_body) == (r.status, r.json_body)
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_account_verification_follows_the_card_status(session: Session, clock: FixedClock) -> None:
    _, card, m = _setup(session, clock)
    method = "pgfs.authorization.account_verification"
    assert _gateway(session, clock, m.jit("v1", "0", method=method)).status == 200
    card.status = CardStatus.SUSPENDED
    session.flush()
    r = _gateway(session, clock, m.jit("v2", "0", method=method))
    assert (r.status, _reason(r)) == (402, "CARD_NOT_ACTIVE")


def test_the_gateway_has_its_own_basic_auth_and_no_signature(
    session: Session, clock: FixedClock
) -> None:
    """Marqeta signs webhook notifications only: a gateway request has Basic Auth alone,
    with the funding source's own credentials."""
    _, _, m = _setup(session, clock)
    body = m.jit("a1", "1.00")
    assert SECRETS.marqeta_signature_secrets  # signatures are on for the webhook
    assert _gateway(session, clock, body).status == 200
    webhook_user = _gateway(session, clock, m.jit("a2", "1.00"), Authorization=basic())
    assert webhook_user.status == 401
    assert webhook_user.headers["WWW-Authenticate"].startswith("Basic")
    none_configured = ProviderSecrets(marqeta_basic_auth=SECRETS.marqeta_basic_auth)
    headers = MarqetaSender.gateway_headers()
    assert handle_gateway(session, body, headers, clock, none_configured).status == 401
    hook_body = m.body(m.transaction("authorization", "a3", 1))
    gateway_user = {
        **MarqetaSender.headers(hook_body),
        "Authorization": basic(GATEWAY_USER, GATEWAY_PASSWORD),
    }
    assert marqeta.handle_webhook(session, hook_body, gateway_user, clock, SECRETS).status == 401


def test_gateway_credentials_come_from_their_own_setting() -> None:
    secrets = ProviderSecrets.from_env(
        {
            "DPLEDGER_MARQETA_BASIC_AUTH": "hook:pw1",
            "DPLEDGER_MARQETA_GATEWAY_BASIC_AUTH": "gw:pw2, gw-next:pw3",
        }
    )
    assert secrets.marqeta_basic_auth == (("hook", "pw1"),)
    assert secrets.marqeta_gateway_basic_auth == (("gw", "pw2"), ("gw-next", "pw3"))
