"""Conformance: the providers' public sample payloads (../shared/fixtures), wrapped and
signed as each provider delivers them, POSTed to the HTTP endpoints, with the ledger
outcome checked. Skipped with a message when ../shared is absent."""

from __future__ import annotations

import copy
import json

from sqlalchemy import func, select

from adapters.models import InboundEvent, InboxStatus
from ledger.models import Card
from ledger.service import Ledger
from monitoring.settings import set_setting
from tests.adapters.marqeta_support import MarqetaSender, basic
from tests.adapters.stripe_support import SECRET, StripeSender, fixture
from tests.api.api_support import Api, problem_of

LOADED = 10_000
STRIPE = "/api/webhooks/stripe"
MARQETA = "/api/webhooks/marqeta"
GATEWAY = "/api/webhooks/marqeta/gateway"


def _balances(api: Api, card: Card) -> tuple[int, int]:
    with api.sessions() as session:
        b = Ledger(session, api.clock).balances(card.account_id)
        return b.posted, b.available


def _status(api: Api, provider_event_id: str) -> InboundEvent:
    with api.sessions() as session:
        return session.execute(
            select(InboundEvent).where(InboundEvent.provider_event_id == provider_event_id)
        ).scalar_one()


def _stripe(api: Api, sender: StripeSender, body: bytes, **kw: str):  # type: ignore[no-untyped-def]
    return api.call("POST", STRIPE, token=None, data=body, headers={**sender.headers(body, **kw)})


class TestStripeIssuing:
    def test_the_fixture_authorisation_request_in_usd_is_declined(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        auth = copy.deepcopy(fixture("stripe", "issuing_authorization.json"))
        auth["card"]["id"] = card.provider_card_token
        body = sender.envelope("issuing_authorization.request", auth, event_id="evt_fx")
        response = _stripe(api, sender, body)
        assert response.status_code == 200
        assert response.get_json() == {
            "approved": False,
            "metadata": {"decline_reason": "currency_not_supported"},
        }
        assert response.headers["Stripe-Version"]
        assert _balances(api, card) == (LOADED, LOADED)

    def test_request_created_capture_as_stripe_delivers_them(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        request = sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_h1", pending=700)
        )
        response = _stripe(api, sender, request)
        assert response.get_json() == {"approved": True}
        assert _balances(api, card) == (LOADED, LOADED - 700)

        created = sender.authorization("iauth_h1", amount=700, history=[(700, True)])
        response = _stripe(api, sender, sender.envelope("issuing_authorization.created", created))
        assert response.get_json() == {"received": True, "status": "duplicate"}

        capture = sender.transaction("ipi_h1", "iauth_h1", -650)
        response = _stripe(api, sender, sender.envelope("issuing_transaction.created", capture))
        assert response.get_json() == {"received": True, "status": "applied"}
        assert _balances(api, card) == (LOADED - 650, LOADED - 650)

    def test_the_fixture_capture_in_gbp_is_a_force_post(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        tx = copy.deepcopy(fixture("stripe", "issuing_transaction.json"))
        tx["card"] = card.provider_card_token
        tx["currency"] = "gbp"
        response = _stripe(api, sender, sender.envelope("issuing_transaction.created", tx))
        assert response.get_json()["status"] == "applied"
        assert _balances(api, card) == (LOADED + tx["amount"], LOADED + tx["amount"])

    def test_the_fixture_card_update_is_checked_against_the_ledger(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        obj = copy.deepcopy(fixture("stripe", "issuing_card.json"))
        obj["id"] = card.provider_card_token
        obj["status"] = "inactive"  # suspended at Stripe, not in the ledger: for an officer
        body = sender.envelope("issuing_card.updated", obj, event_id="evt_card")
        response = _stripe(api, sender, body)
        assert response.get_json() == {"received": True, "status": "parked"}
        assert (_status(api, "evt_card").reason or "").startswith("card_status_mismatch")

    def test_each_delivery_three_times_changes_the_ledger_once(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        body = sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_3x", pending=400)
        )
        answers = [_stripe(api, sender, body).get_json() for _ in range(3)]
        assert answers == [{"approved": True}] * 3
        assert _balances(api, card) == (LOADED, LOADED - 400)

    def test_signature_failures_store_nothing(self, api: Api) -> None:
        card = api.card("stripe", LOADED)
        sender = StripeSender(api.clock, card.provider_card_token)
        body = sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_bad", pending=100)
        )
        now = int(api.clock.now().timestamp())
        cases = {
            "tampered": (body.replace(b"iauth_bad", b"iauth_bab"), sender.headers(body)),
            "stale": (body, sender.headers(body, at=now - 301)),
            "future": (body, sender.headers(body, at=now + 301)),
            "wrong secret": (body, sender.headers(body, secret="whsec_other")),
            "missing": (body, {"Content-Type": "application/json"}),
        }
        for data, headers in cases.values():
            response = api.call("POST", STRIPE, token=None, data=data, headers=headers)
            problem_of(response, 400, "signature_invalid")
        with api.sessions() as session:
            assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0
        assert SECRET  # the good secret still works:
        assert _stripe(api, sender, body).get_json() == {"approved": True}

    def test_malformed_json_is_400(self, api: Api) -> None:
        sender = StripeSender(api.clock, "ic_x")
        body = b'{"id": "evt_1", "type": '
        problem_of(_stripe(api, sender, body), 400, "malformed_payload")


class TestMarqeta:
    def test_the_fixture_as_marqeta_sends_it(self, api: Api) -> None:
        card = api.card("marqeta", LOADED)
        payload = fixture("marqeta", "webhook_transactions_authorization.json")
        payload["transactions"][0]["card_token"] = card.provider_card_token
        body = json.dumps(payload).encode()
        response = api.call(
            "POST", MARQETA, token=None, data=body, headers=MarqetaSender.headers(body)
        )
        (result,) = response.get_json()["received"]
        assert result["status"] == "parked"  # a USD programme
        assert "currency_not_supported" in (_status(api, result["token"]).reason or "")

        payload["transactions"][0]["currency_code"] = "GBP"
        payload["transactions"][0]["token"] = "gbp-" + payload["transactions"][0]["token"]
        body = json.dumps(payload).encode()
        response = api.call(
            "POST", MARQETA, token=None, data=body, headers=MarqetaSender.headers(body)
        )
        assert response.get_json()["received"][0]["status"] == "applied"
        assert _balances(api, card) == (LOADED, LOADED - 1_000)

    def test_a_payment_lifecycle_in_one_delivery(self, api: Api) -> None:
        card = api.card("marqeta", LOADED)
        m = MarqetaSender(api.clock, card.provider_card_token)
        body = m.body(
            m.transaction("authorization", "h-a1", "25.00", mcc="5411"),
            m.transaction(
                "authorization.clearing", "h-a1-c", "24.10", preceding="h-a1", state="COMPLETION"
            ),
        )
        response = api.call("POST", MARQETA, token=None, data=body, headers=m.headers(body))
        assert [r["status"] for r in response.get_json()["received"]] == ["applied", "applied"]
        assert _balances(api, card) == (LOADED - 2_410, LOADED - 2_410)

    def test_wrong_basic_auth_is_401_and_a_bad_signature_400(self, api: Api) -> None:
        card = api.card("marqeta", LOADED)
        m = MarqetaSender(api.clock, card.provider_card_token)
        body = m.body(m.transaction("authorization", "h-x1", "5.00"))
        wrong = m.headers(body, auth=basic("marqeta-hook", "guess"))
        response = api.call("POST", MARQETA, token=None, data=body, headers=wrong)
        problem_of(response, 401, "not_authenticated")
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        forged = m.headers(body, secret="not-the-signing-secret")
        problem_of(
            api.call("POST", MARQETA, token=None, data=body, headers=forged),
            400,
            "signature_invalid",
        )
        assert _balances(api, card) == (LOADED, LOADED)

    def test_gateway_jit_approves_then_declines(self, api: Api) -> None:
        card = api.card("marqeta", LOADED)
        m = MarqetaSender(api.clock, card.provider_card_token)
        body = m.jit("h-j1", "60.00")
        approved = api.call("POST", GATEWAY, token=None, data=body, headers=m.gateway_headers())
        assert approved.status_code == 200
        assert approved.get_json()["jit_funding"]["amount"] == "60.00"
        body = m.jit("h-j2", "60.00")
        declined = api.call("POST", GATEWAY, token=None, data=body, headers=m.gateway_headers())
        assert declined.status_code == 402
        assert declined.get_json()["jit_funding"]["decline_reason"] == "INSUFFICIENT_FUNDS"
        assert _balances(api, card) == (LOADED, LOADED - 6_000)
        with api.sessions() as session:
            statuses = session.scalars(
                select(InboundEvent.status).where(InboundEvent.provider == "marqeta")
            ).all()
        assert statuses == [InboxStatus.APPLIED, InboxStatus.APPLIED]


def test_real_time_decisions_follow_the_councils_blocked_categories(api: Api) -> None:
    """Until the council sets its blocked categories, real time blocks gambling only; once
    it has, every real-time route (Stripe, Marqeta's gateway, canonical events) follows."""
    card = api.card("stripe", LOADED)
    sender = StripeSender(api.clock, card.provider_card_token)

    def ask(auth_id: str) -> dict:
        auth = sender.authorization(auth_id, pending=500, mcc="5921")
        return _stripe(
            api, sender, sender.envelope("issuing_authorization.request", auth)
        ).get_json()

    assert ask("iauth_wine1") == {"approved": True}
    with api.sessions() as session:
        set_setting(
            session, api.clock, "blocked_categories", ["gambling", "alcohol"],
            officer="officer@example.org", reason="Council decision 2026/14",
        )  # fmt: skip
        session.commit()
    assert ask("iauth_wine2") == {
        "approved": False,
        "metadata": {"decline_reason": "blocked_category"},
    }
    mq = api.card("marqeta", LOADED)
    m = MarqetaSender(api.clock, mq.provider_card_token)
    body = m.jit("h-wine", "5.00", mcc="5921")
    declined = api.call("POST", GATEWAY, token=None, data=body, headers=m.gateway_headers())
    assert declined.get_json()["jit_funding"]["decline_reason"] == "INVALID_MERCHANT"
    uk = api.card("ukbank", LOADED)
    request = {"kind": "authorisation_request", "event_id": "uk-wine", "payment_id": "uk-wine",
               "occurred_at": "2026-04-20T09:00:00+00:00", "card": uk.provider_card_token,
               "amount": "5.00", "mcc": "5921"}  # fmt: skip
    (result,) = api.call("POST", "/api/events", body={"events": [request]}).get_json()["results"]
    assert (result["approved"], result["decline_reason"]) == (False, "blocked_category")
