"""The API's marshmallow schemas: input schemas refuse unknown fields (the default,
``RAISE``); output schemas list every field they write, so the OpenAPI document is exact
(``additionalProperties: false``) and the contract tests can hold responses to it.

Money is decimal pounds as a string ("12.34") on the wire, int pence inside. Provider
payloads are not described here field by field: the adapters read them raw.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adapters.canonical import CanonicalEventSchema, Money
from adapters.models import InboxStatus
from ledger.models import CardKind, CardStatus, Phase, TransferCode

MAX_EVENTS = 500
MAX_PAGE = 200


# -- canonical events ------------------------------------------------------------------


class EventsInSchema(Schema):
    events = fields.List(
        fields.Nested(CanonicalEventSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_EVENTS),
        metadata={"description": f"Canonical events (at most {MAX_EVENTS})"},
    )


class EventResultSchema(Schema):
    event = fields.String(
        required=True, metadata={"description": "The inbox key: {kind}:{event_id}"}
    )
    inbox_id = fields.Integer(required=True)
    status = fields.Enum(InboxStatus, by_value=True, required=True)
    reason = fields.String(required=True, allow_none=True)
    approved = fields.Boolean(
        metadata={"description": "For an authorisation_request: the real-time decision"}
    )
    decline_reason = fields.String(allow_none=True)


class EventsOutSchema(Schema):
    results = fields.List(fields.Nested(EventResultSchema), required=True)


# -- cards -------------------------------------------------------------------------------


class BalanceSchema(Schema):
    """The balances of the account the card draws on (its companion pot, for a companion
    card)."""

    card_id = fields.Integer(required=True)
    kind = fields.Enum(CardKind, by_value=True, required=True)
    status = fields.Enum(CardStatus, by_value=True, required=True)
    last4 = fields.String(required=True)
    account_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    posted = Money(required=True, allow_negative=True)
    available = Money(required=True, allow_negative=True)
    pending_debits = Money(required=True)
    pending_credits = Money(required=True)


class TransactionsQuerySchema(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Only transfers with a larger id (the previous page's last)"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class TransactionSchema(Schema):
    id = fields.Integer(required=True)
    effective_at = fields.AwareDateTime(required=True)
    created_at = fields.AwareDateTime(required=True)
    code = fields.Enum(TransferCode, by_value=True, required=True)
    phase = fields.Enum(Phase, by_value=True, required=True)
    direction = fields.String(
        required=True,
        validate=validate.OneOf(["in", "out"]),
        metadata={"description": "in: credits the card's account; out: debits it"},
    )
    amount = Money(required=True)
    description = fields.String(required=True)
    card_id = fields.Integer(required=True, allow_none=True)
    merchant_name = fields.String(required=True, allow_none=True)
    merchant_amount = Money(
        required=True,
        allow_none=True,
        metadata={
            "description": "A card payment in a foreign currency: what the merchant "
            "charged, in its currency (for display; `amount` is what the card was billed)"
        },
    )
    merchant_currency = fields.String(
        required=True, allow_none=True, metadata={"description": "ISO 4217, with merchant_amount"}
    )
    mcc = fields.String(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    payee = fields.String(required=True, allow_none=True)
    reference = fields.String(required=True, allow_none=True)
    pending_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The hold this resolves"}
    )
    reverses_id = fields.Integer(required=True, allow_none=True)


class TransactionsPageSchema(Schema):
    transactions = fields.List(fields.Nested(TransactionSchema), required=True)
    next = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The next page's URL; null on the last page"},
    )


# -- inbox -------------------------------------------------------------------------------


class InboxQuerySchema(Schema):
    before = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Only events with a smaller id (the previous page's last)"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    provider = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


class InboxEventSchema(Schema):
    id = fields.Integer(required=True)
    provider = fields.String(required=True)
    provider_event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status = fields.Enum(InboxStatus, by_value=True, required=True)
    reason = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    received_at = fields.AwareDateTime(required=True)
    last_attempt_at = fields.AwareDateTime(required=True, allow_none=True)
    applied_at = fields.AwareDateTime(required=True, allow_none=True)


class InboxPageSchema(Schema):
    events = fields.List(fields.Nested(InboxEventSchema), required=True)
    next = fields.String(required=True, allow_none=True)


# -- provider webhooks: what we answer -----------------------------------------------------


class StripeAnswerSchema(Schema):
    """For ``issuing_authorization.request``: the decision (``approved``, and
    ``metadata.decline_reason`` when declined). For other events: ``received`` and the
    inbox outcome."""

    approved = fields.Boolean()
    metadata = fields.Dict(keys=fields.String(), values=fields.String())
    received = fields.Boolean()
    status = fields.Enum(InboxStatus, by_value=True)


class MarqetaReceivedSchema(Schema):
    token = fields.String(required=True)
    status = fields.Enum(InboxStatus, by_value=True, required=True)


class MarqetaAnswerSchema(Schema):
    received = fields.List(fields.Nested(MarqetaReceivedSchema), required=True)


class JitFundingSchema(Schema):
    token = fields.String(required=True)
    method = fields.String(required=True)
    user_token = fields.String()
    acting_user_token = fields.String()
    amount = fields.String(required=True, metadata={"description": "Decimal pounds"})
    decline_reason = fields.String()
    balances = fields.Dict()


class JitAnswerSchema(Schema):
    jit_funding = fields.Nested(JitFundingSchema, required=True)
