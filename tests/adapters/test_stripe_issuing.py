"""Stripe Issuing webhooks: the public fixtures, wrapped and signed as Stripe sends them,
through ``handle_webhook``, with the ledger outcome checked."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import inbox, stripe_issuing
from adapters.models import InboundDelivery, InboundEvent, InboxStatus
from adapters.repositories import payments as payments_repo
from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock
from ledger.models import Card, CardStatus, Transfer
from ledger.service import Ledger
from tests import factories
from tests.adapters.stripe_support import SECRET, SECRETS, StripeSender, fixture

LOADED = 10_000


def _setup(session: Session, clock: FixedClock) -> tuple[int, Card, StripeSender]:
    _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
    card.provider = "stripe"
    card.provider_card_token = f"ic_test_{card.id}"
    session.flush()
    return budget.id, card, StripeSender(clock, card.provider_card_token)


def _post(session: Session, clock: FixedClock, sender: StripeSender, body: bytes, **kw: object):
    return stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, SECRETS, **kw)  # type: ignore[arg-type]


def _balances(session: Session, clock: FixedClock, budget_id: int) -> tuple[int, int]:
    b = Ledger(session, clock).balances(budget_id)
    return b.posted, b.available


def _status(session: Session, provider_event_id: str) -> InboundEvent:
    return session.execute(
        select(InboundEvent).where(InboundEvent.provider_event_id == provider_event_id)
    ).scalar_one()


def test_the_fixture_request_as_stripe_sends_it_is_declined_for_its_currency(
    session: Session, clock: FixedClock
) -> None:
    """The public fixture is a USD card: a GBP ledger declines it, with the reason."""
    budget_id, card, sender = _setup(session, clock)
    auth = copy.deepcopy(fixture("stripe", "issuing_authorization.json"))
    auth["card"]["id"] = card.provider_card_token
    body = sender.envelope("issuing_authorization.request", auth, event_id="evt_fixture")
    response = _post(session, clock, sender, body)
    assert response.status == 200
    assert response.json_body == {
        "approved": False,
        "metadata": {"decline_reason": "currency_not_supported"},
    }
    assert response.headers["Stripe-Version"]
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)
    # Stored raw, byte for byte, with the signature header.
    event = _status(session, "evt_fixture")
    delivery = session.get(InboundDelivery, event.delivery_id)
    assert delivery is not None and delivery.body == body
    assert delivery.headers["Stripe-Signature"].startswith("t=")


def test_request_then_created_then_capture(session: Session, clock: FixedClock) -> None:
    budget_id, _card, sender = _setup(session, clock)
    request = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_a", pending=700)
    )
    assert _post(session, clock, sender, request).json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 700)

    created = sender.authorization("iauth_a", amount=700, history=[(700, True)])
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.created", created))
    assert r.json_body["status"] == "duplicate"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 700)

    capture = sender.transaction("ipi_a", "iauth_a", -750)  # a tip: over the hold
    r = _post(session, clock, sender, sender.envelope("issuing_transaction.created", capture))
    assert r.json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED - 750, LOADED - 750)
    assert "clearing (over)" in (_status(session, r_id(sender)).reason or "")

    closed = sender.authorization("iauth_a", amount=0, status="closed", history=[(700, True)])
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.updated", closed))
    assert r.json_body["status"] == "ignored"


def r_id(sender: StripeSender) -> str:
    return f"evt_test_{sender.n}_issuing_transaction.created"


def test_refund_and_reversal_and_expiry(session: Session, clock: FixedClock) -> None:
    budget_id, _, sender = _setup(session, clock)
    for auth_id, pending in (("iauth_r", 400), ("iauth_e", 300)):
        body = sender.envelope(
            "issuing_authorization.request", sender.authorization(auth_id, pending=pending)
        )
        assert _post(session, clock, sender, body).json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 700)

    reversed_ = sender.authorization("iauth_r", amount=0, status="reversed", history=[(400, True)])
    _post(session, clock, sender, sender.envelope("issuing_authorization.updated", reversed_))
    expired = sender.authorization("iauth_e", amount=300, status="expired", history=[(300, True)])
    _post(session, clock, sender, sender.envelope("issuing_authorization.updated", expired))
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)

    refund = sender.transaction("ipi_ref", None, 250, kind="refund")
    r = _post(session, clock, sender, sender.envelope("issuing_transaction.created", refund))
    assert r.json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED + 250, LOADED + 250)


def test_fixture_capture_without_its_authorisation_is_a_force_post(
    session: Session, clock: FixedClock
) -> None:
    budget_id, card, sender = _setup(session, clock)
    tx = copy.deepcopy(fixture("stripe", "issuing_transaction.json"))
    tx["card"] = card.provider_card_token
    tx["currency"] = "gbp"
    r = _post(session, clock, sender, sender.envelope("issuing_transaction.created", tx))
    assert r.json_body["status"] == "applied"
    # The fixture's authorization (iauth_…) never reached us: settle as a force post.
    assert _balances(session, clock, budget_id) == (LOADED - 100, LOADED - 100)
    (spend,) = session.execute(
        select(Transfer).where(Transfer.idempotency_key == tx["id"])
    ).scalars()
    assert (spend.mcc, spend.merchant_name, spend.category) == ("4121", "Rocket Rides", "transport")


def test_fixture_capture_in_usd_is_parked(session: Session, clock: FixedClock) -> None:
    budget_id, card, sender = _setup(session, clock)
    tx = copy.deepcopy(fixture("stripe", "issuing_transaction.json"))
    tx["card"] = card.provider_card_token
    r = _post(session, clock, sender, sender.envelope("issuing_transaction.created", tx, "evt_usd"))
    assert r.status == 200 and r.json_body["status"] == "parked"
    assert "currency_not_supported" in (_status(session, "evt_usd").reason or "")
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_foreign_merchant_currency_uses_the_billing_amount(
    session: Session, clock: FixedClock
) -> None:
    budget_id, _, sender = _setup(session, clock)
    auth = sender.authorization("iauth_fx", pending=850)
    auth["pending_request"]["merchant_amount"] = 1000
    auth["pending_request"]["merchant_currency"] = "eur"
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.request", auth))
    assert r.json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 850)
    payment = payments_repo.find(session, "stripe", "iauth_fx")
    assert payment is not None
    assert (payment.merchant_amount, payment.merchant_currency) == (1000, "EUR")
    capture = sender.transaction("ipi_fx", "iauth_fx", -860)
    capture["merchant_amount"], capture["merchant_currency"] = -1012, "eur"
    _post(session, clock, sender, sender.envelope("issuing_transaction.created", capture))
    session.refresh(payment)
    assert (payment.merchant_amount, payment.merchant_currency) == (1012, "EUR")


def test_capture_of_an_approved_authorisation_is_accepted_on_a_suspended_card(
    session: Session, clock: FixedClock
) -> None:
    budget_id, card, sender = _setup(session, clock)
    body = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_s", pending=500)
    )
    assert _post(session, clock, sender, body).json_body == {"approved": True}
    card.status = CardStatus.SUSPENDED
    session.flush()
    declined = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_s2", pending=100)
    )
    assert _post(session, clock, sender, declined).json_body["metadata"] == {
        "decline_reason": "card_suspended"
    }
    capture = sender.envelope(
        "issuing_transaction.created", sender.transaction("ipi_s", "iauth_s", -500)
    )
    assert _post(session, clock, sender, capture).json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED - 500, LOADED - 500)


def test_incremental_request(session: Session, clock: FixedClock) -> None:
    budget_id, _, sender = _setup(session, clock)
    first = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_i", pending=1_000)
    )
    assert _post(session, clock, sender, first).json_body == {"approved": True}
    more = sender.authorization("iauth_i", amount=1_000, pending=500, history=[(1_000, True)])
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.request", more))
    assert r.json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 1_500)
    too_much = sender.authorization(
        "iauth_i", amount=1_500, pending=9_000, history=[(1_000, True), (500, True)]
    )
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.request", too_much))
    assert r.json_body["metadata"] == {"decline_reason": "insufficient_funds"}
    capture = sender.transaction("ipi_i", "iauth_i", -1_400)
    _post(session, clock, sender, sender.envelope("issuing_transaction.created", capture))
    assert _balances(session, clock, budget_id) == (LOADED - 1_400, LOADED - 1_400)


def test_gambling_is_declined(session: Session, clock: FixedClock) -> None:
    budget_id, _, sender = _setup(session, clock)
    auth = sender.authorization("iauth_bet", pending=500, mcc="7995")
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.request", auth))
    assert r.json_body["metadata"] == {"decline_reason": "blocked_category"}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_declined_created_is_recorded(session: Session, clock: FixedClock) -> None:
    budget_id, _, sender = _setup(session, clock)
    auth = sender.authorization("iauth_d", approved=False, history=[(300, False)])
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.created", auth))
    assert r.json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)


def test_a_decline_after_our_approval_ends_the_hold(session: Session, clock: FixedClock) -> None:
    """Our approval came too late: Stripe fell back to declining. Nothing stays held."""
    budget_id, _, sender = _setup(session, clock)
    request = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_late", pending=700)
    )
    assert _post(session, clock, sender, request).json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 700)
    declined = sender.authorization("iauth_late", approved=False, history=[(700, False)])
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.created", declined))
    assert r.json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED)
    again = sender.envelope("issuing_authorization.created", declined)
    assert _post(session, clock, sender, again).json_body["status"] == "duplicate"


def test_an_approval_after_our_decline_is_held(session: Session, clock: FixedClock) -> None:
    """We declined; Stripe's advice says approved after all: hold what it approved."""
    budget_id, _, sender = _setup(session, clock)
    asked = sender.authorization("iauth_si", pending=500, mcc="7995")
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.request", asked))
    assert r.json_body["approved"] is False
    approved = sender.authorization("iauth_si", amount=500, history=[(500, True)], mcc="7995")
    r = _post(session, clock, sender, sender.envelope("issuing_authorization.created", approved))
    assert r.json_body["status"] == "applied"
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 500)
    capture = sender.transaction("ipi_si", "iauth_si", -500)
    _post(session, clock, sender, sender.envelope("issuing_transaction.created", capture))
    assert _balances(session, clock, budget_id) == (LOADED - 500, LOADED - 500)


def test_a_request_decided_by_another_delivery_is_answered_from_its_decision(
    session: Session, clock: FixedClock
) -> None:
    """Another delivery (a racing replay, say) decided the request and recorded no answer:
    Stripe is told what was decided, never a decline of a payment we approved and hold."""
    budget_id, _, sender = _setup(session, clock)
    body = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_race", pending=600)
    )
    (stored,) = inbox.store(
        session, provider="stripe", channel="webhook", body=body, headers={},
        received_at=clock.now(), events=stripe_issuing.FORMAT.split(body, "webhook"),
    )  # fmt: skip
    inbox.apply_event(session, stored.inbox_id, clock, live=True)  # no answer recorded
    session.commit()
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 600)
    assert _post(session, clock, sender, body).json_body == {"approved": True}
    assert _balances(session, clock, budget_id) == (LOADED, LOADED - 600)


def test_card_updated(session: Session, clock: FixedClock) -> None:
    _, card, sender = _setup(session, clock)
    obj = copy.deepcopy(fixture("stripe", "issuing_card.json"))
    obj["id"] = card.provider_card_token
    r = _post(session, clock, sender, sender.envelope("issuing_card.updated", obj))
    assert r.json_body["status"] == "applied"
    obj["status"] = "inactive"
    r = _post(session, clock, sender, sender.envelope("issuing_card.updated", obj, "evt_inactive"))
    assert r.json_body["status"] == "parked"
    assert "card_status_mismatch" in (_status(session, "evt_inactive").reason or "")


def test_other_event_types_are_recorded_and_ignored(session: Session, clock: FixedClock) -> None:
    _, _, sender = _setup(session, clock)
    body = json.dumps(fixture("stripe", "event_envelope.json")).encode()
    r = _post(session, clock, sender, body)
    assert r.status == 200 and r.json_body["status"] == "ignored"
    assert "plan.created" in (_status(session, "evt_1Pgc76B7WZ01zgkWwyRHS12y").reason or "")


def test_each_event_delivered_three_times_has_one_effect(
    session: Session, clock: FixedClock
) -> None:
    budget_id, _, sender = _setup(session, clock)
    bodies = [
        sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_3", pending=600)
        ),
        sender.envelope(
            "issuing_authorization.created",
            sender.authorization("iauth_3", amount=600, history=[(600, True)]),
        ),
        sender.envelope(
            "issuing_transaction.created", sender.transaction("ipi_3", "iauth_3", -600)
        ),
        sender.envelope(
            "issuing_transaction.created", sender.transaction("ipi_3r", "iauth_3", 100, "refund")
        ),
    ]
    after_first = None
    for body in bodies:
        answers = [_post(session, clock, sender, body).json_body for _ in range(3)]
        if b'"issuing_authorization.request"' in body:
            assert answers == [{"approved": True}] * 3
        else:
            assert answers[1] == answers[2]
        after_first = _balances(session, clock, budget_id)
    assert after_first == (LOADED - 600 + 100, LOADED - 600 + 100)
    assert session.execute(select(InboundDelivery)).scalars().all().__len__() == 4


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"object": "event"}',
        b'{"id": "evt", "type": "x", "object": "list", "created": 1, "data": {}}',
        b"\xff\xfe",
    ],
)
def test_malformed_json_is_refused(session: Session, clock: FixedClock, body: bytes) -> None:
    _, _, sender = _setup(session, clock)
    r = _post(session, clock, sender, body)
    assert r.status == 400
    assert r.json_body["type"].endswith(("malformed_payload", "signature_invalid"))
    assert session.execute(select(InboundEvent)).first() is None


def test_a_malformed_object_is_stored_and_parked(session: Session, clock: FixedClock) -> None:
    _, _, sender = _setup(session, clock)
    tx = sender.transaction("ipi_bad", None, -100)
    tx["amount"] = "-1.00"  # Stripe sends integers
    r = _post(session, clock, sender, sender.envelope("issuing_transaction.created", tx, "evt_bad"))
    assert r.status == 200 and r.json_body["status"] == "parked"
    assert "malformed_payload" in (_status(session, "evt_bad").reason or "")


class TestSignatures:
    def _body(self, sender: StripeSender) -> bytes:
        return sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_sig", pending=100)
        )

    def test_tampered_body(self, session: Session, clock: FixedClock) -> None:
        _, _, sender = _setup(session, clock)
        body = self._body(sender)
        headers = sender.headers(body)
        tampered = body.replace(b'"amount": 100', b'"amount": 1')
        r = stripe_issuing.handle_webhook(session, tampered, headers, clock, SECRETS)
        assert r.status == 400 and r.json_body["type"].endswith("signature_invalid")

    @pytest.mark.parametrize("offset", [-301, 301, -3600, 86_400])
    def test_stale_or_future_timestamp(
        self, session: Session, clock: FixedClock, offset: int
    ) -> None:
        _, _, sender = _setup(session, clock)
        body = self._body(sender)
        at = int(clock.now().timestamp()) + offset
        r = stripe_issuing.handle_webhook(
            session, body, sender.headers(body, at=at), clock, SECRETS
        )
        assert r.status == 400
        assert "timestamp" in r.json_body["detail"]

    @pytest.mark.parametrize("offset", [-299, 0, 299])
    def test_within_tolerance(self, session: Session, clock: FixedClock, offset: int) -> None:
        _, _, sender = _setup(session, clock)
        body = self._body(sender)
        at = int(clock.now().timestamp()) + offset
        r = stripe_issuing.handle_webhook(
            session, body, sender.headers(body, at=at), clock, SECRETS
        )
        assert r.status == 200

    def test_wrong_secret(self, session: Session, clock: FixedClock) -> None:
        _, _, sender = _setup(session, clock)
        body = self._body(sender)
        r = stripe_issuing.handle_webhook(
            session, body, sender.headers(body, secret="whsec_other"), clock, SECRETS
        )
        assert r.status == 400

    def test_missing_header_and_no_secret_configured(
        self, session: Session, clock: FixedClock
    ) -> None:
        _, _, sender = _setup(session, clock)
        body = self._body(sender)
        assert stripe_issuing.handle_webhook(session, body, {}, clock, SECRETS).status == 400
        r = stripe_issuing.handle_webhook(
            session, body, sender.headers(body), clock, ProviderSecrets()
        )
        assert r.status == 400

    def test_rotated_secrets(self, session: Session, clock: FixedClock) -> None:
        """While a secret is rolled, either is accepted, and Stripe's header may carry both."""
        _, _, sender = _setup(session, clock)
        rolled = ProviderSecrets(stripe_webhook_secrets=("whsec_new", SECRET))
        body = self._body(sender)
        assert (
            stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, rolled).status
            == 200
        )
        body = sender.envelope(
            "issuing_authorization.request", sender.authorization("iauth_sig2", pending=100)
        )
        new_sig = sender.headers(body, secret="whsec_new")["Stripe-Signature"].split(",")[1]
        old_sig = sender.headers(body, secret="whsec_retired")["Stripe-Signature"]
        both = {"Stripe-Signature": f"{old_sig},{new_sig}"}
        assert stripe_issuing.handle_webhook(session, body, both, clock, rolled).status == 200
        retired = ProviderSecrets(stripe_webhook_secrets=("whsec_new",))
        only_old = sender.headers(body, secret=SECRET)
        assert stripe_issuing.handle_webhook(session, body, only_old, clock, retired).status == 400

    @pytest.mark.parametrize(
        "shape",
        [
            "x=y, t={now},t={old},v1={sig}",
            "t={now},t={old},v1={sig}",
            "t={old},v1={sig}, t={now}",
            " t={old},v1={sig}",
        ],
    )
    def test_a_header_with_an_ambiguous_timestamp_is_refused(
        self, session: Session, clock: FixedClock, shape: str
    ) -> None:
        """A captured body and signature from long ago cannot be made fresh by adding a
        second timestamp: stripe's verifier reads one, a lenient reader the other."""
        budget_id, _, sender = _setup(session, clock)
        body = self._body(sender)
        old = int(clock.now().timestamp()) - 86_400
        signature = sender.headers(body, at=old)["Stripe-Signature"].split("v1=")[1]
        forged = shape.format(now=int(clock.now().timestamp()), old=old, sig=signature)
        r = stripe_issuing.handle_webhook(
            session, body, {"Stripe-Signature": forged}, clock, SECRETS
        )
        assert r.status == 400 and r.json_body["code"] == "signature_invalid"
        assert _balances(session, clock, budget_id) == (LOADED, LOADED)

    def test_replay_after_the_window_is_refused(self, session: Session, clock: FixedClock) -> None:
        budget_id, _, sender = _setup(session, clock)
        body = self._body(sender)
        headers = sender.headers(body)
        assert stripe_issuing.handle_webhook(session, body, headers, clock, SECRETS).status == 200
        # Within the window a replay is the same event: the same answer, no second hold.
        assert stripe_issuing.handle_webhook(session, body, headers, clock, SECRETS).json_body == {
            "approved": True
        }
        assert _balances(session, clock, budget_id) == (LOADED, LOADED - 100)
        clock.advance(seconds=301)
        assert stripe_issuing.handle_webhook(session, body, headers, clock, SECRETS).status == 400


def test_a_request_for_an_unknown_card_is_declined_and_parked(
    session: Session, clock: FixedClock
) -> None:
    _setup(session, clock)
    stranger = StripeSender(clock, "ic_not_ours")
    body = stranger.envelope(
        "issuing_authorization.request", stranger.authorization("iauth_x", pending=100), "evt_x"
    )
    r = _post(session, clock, stranger, body)
    assert r.json_body == {"approved": False, "metadata": {"decline_reason": "unknown_card"}}
    assert _status(session, "evt_x").status is InboxStatus.PARKED
