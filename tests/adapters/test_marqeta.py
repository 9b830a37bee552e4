"""Marqeta: the transactions webhook and Gateway JIT Funding, from the public fixture."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import marqeta
from adapters.models import InboundEvent
from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock
from ledger.models import Card
from ledger.service import Ledger
from tests import factories
from tests.adapters.marqeta_support import SECRETS, MarqetaSender, basic
from tests.adapters.stripe_support import fixture

LOADED = 10_000


def _setup(
    session: Session, clock: FixedClock, loaded: int = LOADED
) -> tuple[int, Card, MarqetaSender]:
    _, budget, card = factories.budget_with_card(session, clock, loaded=loaded)
    card.provider = "marqeta"
    card.provider_card_token = f"mq-card-{card.id}"
    session.flush()
    return budget.id, card, MarqetaSender(clock, card.provider_card_token)


def _post(
    session: Session,
    clock: FixedClock,
    body: bytes,
    secrets: ProviderSecrets = SECRETS,
    **headers: str,
):
    return marqeta.handle_webhook(
        session, body, {**MarqetaSender.headers(body), **headers}, clock, secrets
    )


def _balances(session: Session, clock: FixedClock, budget_id: int) -> tuple[int, int]:
    b = Ledger(session, clock).balances(budget_id)
    return b.posted, b.available


def _event(session: Session, token: str) -> InboundEvent:
    return session.execute(
        select(InboundEvent).where(InboundEvent.provider_event_id == token)
    ).scalar_one()


def test_the_fixture_as_marqeta_sends_it(session: Session, clock: FixedClock) -> None:
    """The public fixture is a USD program: stored, and parked for its currency."""
    budget_id, card, _ = _setup(session, clock)
    payload = fixture("marqeta", "webhook_transactions_authorization.json")
    payload["transactions"][0]["card_token"] = card.provider_card_token
    body = json.dumps(payload).encode()
    r = _post(session, clock, body)
    assert r.status == 200
    (result,) = r.json_body["received"]
    assert result == {"token": "36d04781-d34f-4e0c-b895-2f1af976b565", "status": "parked"}
    assert "currency_not_supported" in (_event(session, result["token"]).reason or "")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_the_fixture_in_gbp_holds_ten_pounds(session: Session, clock: FixedClock) -> None:
    budget_id, card, _ = _setup(session, clock)
    payload = fixture("marqeta", "webhook_transactions_authorization.json")
    payload["transactions"][0]["card_token"] = card.provider_card_token
    payload["transactions"][0]["currency_code"] = "GBP"
    r = _post(session, clock, json.dumps(payload).encode())
    assert r.json_body["received"][0]["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_000)


def test_authorisation_lifecycle_in_one_delivery(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    body = m.body(
        m.transaction("authorization", "a1", "25.00", mcc="5411"),
        m.transaction("authorization.incremental", "a1-inc", "5.50", preceding="a1"),
        m.transaction(
            "authorization.clearing", "a1-clr", "28.75", preceding="a1", state="COMPLETION"
        ),
        m.transaction("refund", "a1-ref", "3.75", preceding="a1", state="COMPLETION"),
    )
    r = _post(session, clock, body)
    assert [x["status"] for x in r.json_body["received"]] == ["applied"] * 4
    assert _balances(session, clock, budget_id) == (LOADED - 2_875 + 375,) * 2


def test_reversal_expiry_pindebit_atm_and_gpa(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    body = m.body(
        m.transaction("authorization", "b1", 10),
        m.transaction("authorization.reversal", "b1-rev", 4, preceding="b1"),
        m.transaction("authorization", "b2", "7.5"),
        m.transaction("authorization.reversal.issuerexpiration", "b2-exp", "7.5", preceding="b2"),
        m.transaction("pindebit", "p1", "12.00", state="COMPLETION"),
        m.transaction("pindebit.atm.withdrawal", "p2", "20", state="COMPLETION", mcc="6011"),
        m.transaction("gpa.credit", "g1", "100.00", state="COMPLETION"),
        m.transaction("gpa.debit", "g2", "30.00", state="COMPLETION"),
        m.transaction("transfer.fee", "f1", "1.00", state="COMPLETION"),
    )
    r = _post(session, clock, body)
    statuses = [x["status"] for x in r.json_body["received"]]
    assert statuses == ["applied"] * 8 + ["ignored"]
    posted = LOADED - 1_200 - 2_000 + 10_000 - 3_000
    assert _balances(session, clock, budget_id) == (posted, posted - 600)


def test_declined_authorisation(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    tx = m.transaction("authorization", "d1", 5, state="DECLINED")
    tx["response"] = {"code": "1016", "memo": "Insufficient funds"}
    r = _post(session, clock, m.body(tx))
    assert r.json_body["received"][0]["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


@pytest.mark.parametrize("amount", ["10.005", '"ten"', "-5"])
def test_bad_amounts_are_parked(session: Session, clock: FixedClock, amount: str) -> None:
    budget_id, _, m = _setup(session, clock)
    r = _post(session, clock, m.body(m.transaction("authorization", f"bad-{amount}", amount)))
    assert r.json_body["received"][0]["status"] == "parked"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"transactions": {}}', b'{"transactions": [{"type": "authorization"}]}', b"null"],
)
def test_malformed_bodies_are_refused(session: Session, clock: FixedClock, body: bytes) -> None:
    _setup(session, clock)
    r = _post(session, clock, body)
    assert r.status == 400 and r.json_body["type"].endswith("malformed_payload")


def test_authentication(session: Session, clock: FixedClock) -> None:
    _, _, m = _setup(session, clock)
    body = m.body(m.transaction("authorization", "auth-check", 1))
    assert _post(session, clock, body, Authorization=basic(password="wrong")).status == 401
    assert _post(session, clock, body, Authorization="Bearer x").status == 401
    assert _post(session, clock, body, **{"X-Marqeta-Signature": "00" * 32}).status == 400
    tampered = body.replace(b"auth-check", b"auth-chekk")
    r = marqeta.handle_webhook(session, tampered, MarqetaSender.headers(body), clock, SECRETS)
    assert r.status == 400
    rotated = ProviderSecrets(
        marqeta_basic_auth=SECRETS.marqeta_basic_auth,
        marqeta_signature_secrets=("new-secret", "marqeta-signing-secret"),
    )
    assert _post(session, clock, body, rotated).status == 200
    unsigned = ProviderSecrets(marqeta_basic_auth=SECRETS.marqeta_basic_auth)
    r = marqeta.handle_webhook(session, body, {"Authorization": basic()}, clock, unsigned)
    assert r.status == 200
    assert marqeta.handle_webhook(session, body, {}, clock, ProviderSecrets()).status == 401


def test_each_event_three_times(session: Session, clock: FixedClock) -> None:
    budget_id, _, m = _setup(session, clock)
    bodies = [
        m.body(m.transaction("authorization", "t1", 30)),
        m.body(m.transaction("authorization.clearing", "t1-c", 30, preceding="t1")),
    ]
    for body in bodies:
        first = _post(session, clock, body).json_body
        assert [_post(session, clock, body).json_body for _ in range(2)] == [first, first]
    assert _balances(session, clock, budget_id) == (LOADED - 3_000,) * 2


ORDER_EVENTS = [
    "authorization",
    "authorization.incremental",
    "authorization.clearing",
    "authorization.reversal",
    "refund",
]


def test_every_arrival_order(session: Session, clock: FixedClock) -> None:
    """Marqeta's own types, all 120 orders: the same balances every time."""
    outcomes = set()
    for n, order in enumerate(itertools.permutations(range(5))):
        budget_id, _, m = _setup(session, clock)
        a = f"o{n}"
        txs = [
            m.transaction("authorization", a, "40.00"),
            m.transaction("authorization.incremental", f"{a}-i", "10.00", preceding=a),
            m.transaction(
                "authorization.clearing", f"{a}-c", "45.00", preceding=a, state="COMPLETION"
            ),
            m.transaction("authorization.reversal", f"{a}-r", "5.00", preceding=a),
            m.transaction("refund", f"{a}-f", "8.00", preceding=a, state="COMPLETION"),
        ]
        for index in order:
            r = _post(session, clock, m.body(txs[index]))
            assert r.json_body["received"][0]["status"] == "applied", (
                ORDER_EVENTS[index],
                r.json_body,
            )
        outcomes.add(_balances(session, clock, budget_id))
    assert outcomes == {(LOADED - 4_500 + 800,) * 2}
