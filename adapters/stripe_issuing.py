"""Stripe Issuing, in Stripe's words.

``handle_webhook`` takes the raw body and headers of a webhook delivery, verifies the
``Stripe-Signature``, stores the event in the inbox and applies it. For
``issuing_authorization.request`` it answers in the same call with the real-time decision
(``{"approved": …}`` and the ``Stripe-Version`` header Stripe requires).

Events used:
- ``issuing_authorization.request``: the decision (the first, or an increment: a request on
  an authorisation that has already been approved for something);
- ``issuing_authorization.created``: approved -> an advice (the hold, if we did not place it
  answering the request); declined -> a decline;
- ``issuing_authorization.updated``: ``reversed`` -> full reversal, ``expired`` -> expiry,
  ``pending`` with less held than approved -> partial reversal; ``closed`` has no effect
  (its transactions settle it);
- ``issuing_transaction.created``: ``capture`` (a negative amount) -> clearing, accepted
  whatever the card's status now; ``refund`` -> refund;
- ``issuing_card.updated``: checked against the ledger's card status (our suspend is
  Stripe's ``inactive``, our close is ``canceled``).
Other event types are recorded and ignored. Amounts are integer minor units of the card's
currency: pence for GBP cards. Fields we do not use stay in the stored raw body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy.orm import Session

from adapters import mcc as mcc_codes
from adapters.authorisation import AuthorisationPolicy
from adapters.canonical import CanonicalEvent, EventKind
from adapters.errors import MalformedPayload, SignatureInvalid
from adapters.formats import Ignore, RawEvent, header, parse_json
from adapters.inbox import deliver, durable_recorded_decision
from adapters.outbound import MONEY_COMMANDS, ProviderReply
from adapters.payments import Outcome
from adapters.quick_load import QuickLoad
from adapters.signatures import verify_timestamped
from adapters.webhooks import ProviderSecrets, WebhookResponse, problem
from ledger.clock import Clock
from ledger.errors import DomainError
from ledger.models import CardStatus
from ledger.ports import CardCommand

log = logging.getLogger(__name__)

PROVIDER = "stripe"
REQUEST = "issuing_authorization.request"

CARD_STATUS = {
    "active": CardStatus.ACTIVE,
    "inactive": CardStatus.SUSPENDED,
    "canceled": CardStatus.CLOSED,
}
STRIPE_STATUS = {ours: theirs for theirs, ours in CARD_STATUS.items()}

# Currencies Stripe counts in whole units; their merchant amounts are not shown as pounds.
_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


class _MerchantData(_Base):
    category = fields.String(load_default=None, allow_none=True)
    category_code = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)


class _CardRef(fields.Field):  # type: ignore[type-arg]
    """``card`` is an id, or the expanded card object."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, Mapping) and isinstance(value.get("id"), str):
            return str(value["id"])
        raise ValidationError("a card id or card object is required")


class _PendingRequest(_Base):
    amount = fields.Integer(strict=True, required=True)
    currency = fields.String(required=True)
    merchant_amount = fields.Integer(strict=True, load_default=None, allow_none=True)
    merchant_currency = fields.String(load_default=None, allow_none=True)


class _RequestHistory(_Base):
    amount = fields.Integer(strict=True, load_default=0)
    approved = fields.Boolean(load_default=False)
    reason = fields.String(load_default=None, allow_none=True)


class _Authorization(_Base):
    id = fields.String(required=True)
    amount = fields.Integer(strict=True, required=True)
    currency = fields.String(required=True)
    approved = fields.Boolean(required=True)
    status = fields.String(required=True)
    card = _CardRef(required=True)
    created = fields.Integer(strict=True, required=True)
    merchant_amount = fields.Integer(strict=True, load_default=None, allow_none=True)
    merchant_currency = fields.String(load_default=None, allow_none=True)
    merchant_data = fields.Nested(_MerchantData, load_default=dict)
    pending_request = fields.Nested(_PendingRequest, load_default=None, allow_none=True)
    request_history = fields.List(fields.Nested(_RequestHistory), load_default=list)


class _Transaction(_Base):
    id = fields.String(required=True)
    amount = fields.Integer(strict=True, required=True)
    currency = fields.String(required=True)
    type = fields.String(required=True)
    authorization = fields.String(load_default=None, allow_none=True)
    card = _CardRef(required=True)
    created = fields.Integer(strict=True, required=True)
    merchant_amount = fields.Integer(strict=True, load_default=None, allow_none=True)
    merchant_currency = fields.String(load_default=None, allow_none=True)
    merchant_data = fields.Nested(_MerchantData, load_default=dict)


class _Card(_Base):
    id = fields.String(required=True)
    status = fields.String(required=True)


class _Event(_Base):
    id = fields.String(required=True)
    type = fields.String(required=True)
    object = fields.String(required=True)
    created = fields.Integer(strict=True, required=True)
    data = fields.Dict(required=True)


# Built once: a schema is a set of fields (several nested), costly to make and safe to share.
# Read through QuickLoad: marshmallow's result, without its machinery for the usual input.
_EVENT = QuickLoad(_Event())
_AUTHORIZATION = QuickLoad(_Authorization())
_TRANSACTION = QuickLoad(_Transaction())
_CARD = QuickLoad(_Card())


def _load(schema: QuickLoad, data: Any, what: str) -> dict[str, Any]:
    try:
        loaded = schema.load(data)
    except ValidationError as error:
        raise MalformedPayload(f"not a Stripe {what}: {error.messages}") from None
    return loaded


def _when(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _merchant(obj: Mapping[str, Any]) -> dict[str, Any]:
    data = obj.get("merchant_data") or {}
    mcc = data.get("category_code")
    if not (isinstance(mcc, str) and mcc_codes.valid_mcc(mcc)):
        mcc = mcc_codes.mcc_for_stripe_category(data.get("category"))
    name = data.get("name")
    return {
        "merchant_name": name[:200] if isinstance(name, str) else None,
        "mcc": mcc,
        "cash": mcc_codes.is_cash(mcc),
    }


def _merchant_amount(amount: int | None, currency: str | None) -> dict[str, Any]:
    if amount is None or not currency or currency.upper() in _ZERO_DECIMAL:
        return {}
    return {"merchant_amount": abs(amount), "merchant_currency": currency.upper()}


class StripeIssuingFormat:
    name = PROVIDER

    def split(self, body: bytes, channel: str) -> list[RawEvent]:
        envelope = _load(_EVENT, parse_json(body), "event")
        if envelope["object"] != "event":
            raise MalformedPayload("a Stripe webhook body is an event object")
        obj = envelope["data"].get("object")
        if not isinstance(obj, Mapping):
            raise MalformedPayload("a Stripe event carries its object in data.object")
        return [RawEvent(envelope["id"], envelope["type"], 0, envelope)]

    def to_canonical(self, raw: RawEvent) -> CanonicalEvent | Ignore:
        obj = raw.payload["data"]["object"]
        kind = raw.event_type
        if kind in (REQUEST, "issuing_authorization.created", "issuing_authorization.updated"):
            return self._authorization(raw, _load(_AUTHORIZATION, obj, "authorization"))
        if kind == "issuing_transaction.created":
            return self._transaction(_load(_TRANSACTION, obj, "transaction"))
        if kind == "issuing_card.updated":
            card = _load(_CARD, obj, "card")
            status = CARD_STATUS.get(card["status"])
            if status is None:
                return Ignore(f"card status {card['status']!r} is not one dpledger keeps")
            return CanonicalEvent(
                kind=EventKind.CARD_STATUS,
                event_id=raw.provider_event_id,
                occurred_at=_when(raw.payload["created"]),
                card_token=card["id"],
                card_status=status,
            )
        return Ignore(f"{kind} events are not used by dpledger")

    def _authorization(self, raw: RawEvent, auth: dict[str, Any]) -> CanonicalEvent | Ignore:
        base: dict[str, Any] = {
            "card_token": auth["card"],
            "payment_id": auth["id"],
            "currency": auth["currency"].upper(),
            **_merchant(raw.payload["data"]["object"]),
        }
        approved_total = sum(h["amount"] for h in auth["request_history"] if h["approved"])
        if raw.event_type == REQUEST:
            pending = auth["pending_request"]
            if pending is None:
                raise MalformedPayload("an authorization request carries pending_request")
            increment = auth["amount"] > 0 or approved_total > 0
            return CanonicalEvent(
                kind=EventKind.AUTHORISATION_REQUEST,
                event_id=f"{auth['id']}:{len(auth['request_history'])}"
                if increment
                else auth["id"],
                occurred_at=_when(raw.payload["created"]),
                amount=pending["amount"],
                increment=increment,
                **{**base, "currency": pending["currency"].upper()},
                **_merchant_amount(pending["merchant_amount"], pending["merchant_currency"]),
            )
        occurred = _when(raw.payload["created"])
        if raw.event_type == "issuing_authorization.created":
            if not auth["approved"]:
                last = auth["request_history"][-1] if auth["request_history"] else {}
                asked = last.get("amount") or (auth["pending_request"] or {}).get("amount", 0)
                return CanonicalEvent(
                    kind=EventKind.DECLINE,
                    event_id=auth["id"],
                    occurred_at=occurred,
                    amount=asked,
                    reason=last.get("reason") or "declined",
                    **base,
                )
            held = auth["amount"] or approved_total
            if held <= 0:
                return Ignore("approved for nothing held")
            return CanonicalEvent(
                kind=EventKind.AUTHORISATION_ADVICE,
                event_id=auth["id"],
                occurred_at=occurred,
                amount=held,
                **base,
                **_merchant_amount(auth["merchant_amount"], auth["merchant_currency"]),
            )
        status = auth["status"]
        if status == "reversed":
            return CanonicalEvent(
                kind=EventKind.REVERSAL, event_id=raw.provider_event_id, occurred_at=occurred,
                full=True, **base,
            )  # fmt: skip
        if status == "expired":
            return CanonicalEvent(
                kind=EventKind.EXPIRY, event_id=raw.provider_event_id, occurred_at=occurred, **base
            )
        if status == "pending" and 0 <= auth["amount"] < approved_total:
            return CanonicalEvent(
                kind=EventKind.REVERSAL,
                event_id=raw.provider_event_id,
                occurred_at=occurred,
                amount=approved_total - auth["amount"],
                absolute=True,
                **base,
            )
        return Ignore(f"authorization {status}: no change to what is held")

    def _transaction(self, tx: dict[str, Any]) -> CanonicalEvent | Ignore:
        if tx["type"] == "capture":
            kind, amount = EventKind.CLEARING, -tx["amount"]
        elif tx["type"] == "refund":
            kind, amount = EventKind.REFUND, tx["amount"]
        else:
            return Ignore(f"transactions of type {tx['type']!r} are not used by dpledger")
        if amount <= 0:
            raise MalformedPayload(f"a {tx['type']} with amount {tx['amount']} is not possible")
        return CanonicalEvent(
            kind=kind,
            event_id=tx["id"],
            occurred_at=_when(tx["created"]),
            card_token=tx["card"],
            amount=amount,
            currency=tx["currency"].upper(),
            payment_id=tx["authorization"],
            **_merchant({"merchant_data": tx["merchant_data"]}),
            **_merchant_amount(tx["merchant_amount"], tx["merchant_currency"]),
        )


FORMAT = StripeIssuingFormat()


def verify(
    raw_body: bytes, headers: Mapping[str, str], clock: Clock, secrets: ProviderSecrets
) -> None:
    """Check the ``Stripe-Signature`` header; raises ``SignatureInvalid``."""
    verify_timestamped(
        raw_body,
        header(headers, "Stripe-Signature"),
        secrets.stripe_webhook_secrets,
        clock.now(),
        secrets.tolerance_seconds,
    )


def handle_webhook(
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    clock: Clock,
    secrets: ProviderSecrets,
    *,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """Verify, store, apply; for a real-time request, answer it. Commits (the inbox owns
    its two transactions: the raw event first, then its effect)."""
    try:
        verify(raw_body, headers, clock, secrets)
        events = FORMAT.split(raw_body, "webhook")
    except (SignatureInvalid, MalformedPayload) as error:
        return problem(error)
    kept = {"Stripe-Signature": header(headers, "Stripe-Signature") or ""}
    try:
        (result,) = deliver(
            session,
            clock,
            provider=PROVIDER,
            channel="webhook",
            body=raw_body,
            headers=kept,
            events=events,
            policy=policy,
            respond=_respond,
        )
    except Exception:
        # The database failed us (unreachable, or SQLite busy beyond its timeout): nothing
        # was decided, or nothing can be shown to be durable. A real-time request is
        # answered once and never retried (Stripe's 2 s deadline), so it is declined: we
        # never approve what we have not held. Any other event gets a 500, which Stripe
        # retries until we have stored and applied it.
        log.exception("Stripe event %s was not stored and applied", events[0].provider_event_id)
        if events[0].event_type == REQUEST:
            return _answer(_NOT_DECIDED, secrets)
        return problem(DomainError("the event could not be stored and applied: retry"), 500)
    if result.event_type == REQUEST:
        return _answer(result.response or _recorded_answer(session, events[0]), secrets)
    return WebhookResponse(200, {"received": True, "status": result.status.value})


# The answer to a real-time request that was not decided (never an approval).
_NOT_DECIDED: dict[str, Any] = {"approved": False, "metadata": {"decline_reason": "not_decided"}}


def _recorded_answer(session: Session, raw: RawEvent) -> dict[str, Any]:
    """The answer from the decision recorded for the request, when the inbox row holds
    none (another delivery applied it without answering): never a decline of a payment
    we approved and hold while the database answers, and a decline when it fails us (as
    ``handle_webhook`` answers when the delivery fails): never no answer."""
    try:
        event = FORMAT.to_canonical(raw)
    except MalformedPayload:
        return _NOT_DECIDED
    decision = durable_recorded_decision(
        session, PROVIDER, event, what=f"Stripe event {raw.provider_event_id}"
    )
    if decision is not None and decision.approved:
        return {"approved": True}
    if decision is None or not decision.reason:
        return _NOT_DECIDED
    return {"approved": False, "metadata": {"decline_reason": decision.reason[:64]}}


def _respond(raw: RawEvent, outcome: Outcome) -> dict[str, Any] | None:
    if raw.event_type != REQUEST:
        return None
    decision = outcome.decision
    if decision is not None and decision.approved:
        return {"approved": True}
    reason = (decision.reason if decision is not None else outcome.detail) or "declined"
    return {"approved": False, "metadata": {"decline_reason": reason.split(":")[0][:64]}}


def _answer(body: dict[str, Any], secrets: ProviderSecrets) -> WebhookResponse:
    return WebhookResponse(
        200,
        body,
        {"Stripe-Version": secrets.stripe_api_version, "Content-Type": "application/json"},
    )


class StripeCommands:
    """Outbound commands through Stripe's API (``ProviderClient``).

    Suspend, unsuspend and close set the card's status (``inactive``, ``active``,
    ``canceled``) with our idempotency key as Stripe's. Loads and unloads move no money at
    Stripe: an Issuing card has no balance of its own and real-time authorisation spends
    from the ledger, so they are recorded as done.
    """

    provider = PROVIDER
    _STATUS = {
        CardCommand.SUSPEND: STRIPE_STATUS[CardStatus.SUSPENDED],
        CardCommand.UNSUSPEND: STRIPE_STATUS[CardStatus.ACTIVE],
        CardCommand.CLOSE: STRIPE_STATUS[CardStatus.CLOSED],
    }

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def execute(
        self, card_token: str, command: CardCommand, *, key: str, amount: int | None
    ) -> ProviderReply:
        if command in MONEY_COMMANDS:
            return ProviderReply(True, False, "ledger only: Stripe holds no per-card balance")
        try:
            card = self.client.v1.issuing.cards.update(
                card_token,
                params={"status": self._STATUS[command]},
                options={"idempotency_key": key},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            return ProviderReply(False, True, f"{type(error).__name__}: {error}")
        except stripe.StripeError as error:
            return ProviderReply(False, False, f"{type(error).__name__}: {error}")
        return ProviderReply(True, False, f"card {card.id} is {card.status} at Stripe")
