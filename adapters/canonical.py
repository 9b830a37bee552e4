"""Canonical events: what every provider format is mapped onto before it touches the ledger.

One event says one thing the provider did or asks: a council load, a client contribution,
an authorisation request (real-time decision), an authorisation advice, an incremental
authorisation, a reversal, an expiry, a clearing, a refund, an outbound bank payment
(direct debit, standing order, Faster Payment), a fee, an unload, a decline, or a card's
status. A clearing is full, partial, over or a force post depending on the hold it meets
(``ClearingKind``); the event itself only carries the settled amount.

Amounts are integer pence in the card account's (billing) currency, GBP. On the wire they
are decimal pounds ("12.34"), parsed exactly; floats, sub-penny values, text that is not
plain digits (a pound sign, thousands commas) and amounts above ``MAX_AMOUNT`` are refused.
A payment in a foreign currency carries the merchant's amount and currency for display
only.

``CanonicalEventSchema`` is the input schema (unknown fields rejected: this is our own
format); ``CanonicalEventOutputSchema`` writes events out. ``check_event`` holds the
per-kind rules, shared with the statement-file reader, which builds events directly
(``event_of``, a line at a time).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from adapters.errors import MalformedPayload
from ledger.errors import InvalidAmount
from ledger.models import CardStatus, TransferCode
from ledger.money import parse_pounds


class EventKind(StrEnum):
    LOAD = "load"
    CONTRIBUTION = "contribution"
    AUTHORISATION_REQUEST = "authorisation_request"
    AUTHORISATION_ADVICE = "authorisation_advice"
    INCREMENTAL_AUTHORISATION = "incremental_authorisation"
    REVERSAL = "reversal"
    EXPIRY = "expiry"
    CLEARING = "clearing"
    REFUND = "refund"
    DIRECT_DEBIT = "direct_debit"
    STANDING_ORDER = "standing_order"
    FASTER_PAYMENT = "faster_payment"
    FEE = "fee"
    UNLOAD = "unload"
    DECLINE = "decline"
    CARD_STATUS = "card_status"


class ClearingKind(StrEnum):
    FULL = "full"  # the hold's amount
    PARTIAL = "partial"  # less than the hold; the rest is released
    OVER = "over"  # more than the hold (tips, fuel); the excess is settled too
    FORCE_POST = "force_post"  # no open hold to settle against


BANK_PAYMENT_CODES: Mapping[EventKind, TransferCode] = {
    EventKind.DIRECT_DEBIT: TransferCode.DIRECT_DEBIT,
    EventKind.STANDING_ORDER: TransferCode.STANDING_ORDER,
    EventKind.FASTER_PAYMENT: TransferCode.FASTER_PAYMENT,
}

# Events about one card payment, linked by the provider's authorisation id.
CARD_PAYMENT_KINDS = frozenset(
    {
        EventKind.AUTHORISATION_REQUEST,
        EventKind.AUTHORISATION_ADVICE,
        EventKind.INCREMENTAL_AUTHORISATION,
        EventKind.REVERSAL,
        EventKind.EXPIRY,
        EventKind.CLEARING,
        EventKind.REFUND,
        EventKind.DECLINE,
    }
)
_NEEDS_PAYMENT_ID = frozenset(
    {
        EventKind.AUTHORISATION_REQUEST,
        EventKind.AUTHORISATION_ADVICE,
        EventKind.INCREMENTAL_AUTHORISATION,
        EventKind.REVERSAL,
        EventKind.EXPIRY,
        EventKind.DECLINE,
    }
)
_NO_AMOUNT = frozenset({EventKind.EXPIRY, EventKind.CARD_STATUS})

# The most any one event may move: £1,000,000,000, in pence. Far above any payment from a
# card, and far inside the ledger's 64-bit totals however many such events are summed.
MAX_AMOUNT = 100_000_000_000
_MAX_POUNDS = Decimal(MAX_AMOUNT) / 100
# Decimal pounds on the wire: digits, and at most two after a point (no £ sign, no commas).
_WIRE_POUNDS = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")


@dataclass(frozen=True)
class CanonicalEvent:
    """One provider event in our words. ``event_id`` is the provider's id for it (our
    idempotency key); ``payment_id`` links the events of one card payment."""

    kind: EventKind
    event_id: str
    occurred_at: datetime
    card_token: str
    amount: int = 0
    currency: str = "GBP"
    merchant_amount: int | None = None
    merchant_currency: str | None = None
    payment_id: str | None = None
    merchant_name: str | None = None
    mcc: str | None = None
    cash: bool = False
    payee: str | None = None
    reference: str | None = None
    # A reversal of the whole authorisation (``amount`` may then be 0).
    full: bool = False
    # ``amount`` is the provider's running total (authorised, or reversed) rather than a delta.
    absolute: bool = False
    reason: str | None = None
    card_status: CardStatus | None = None
    emergency: bool = False
    # An authorisation request for an increase to ``payment_id``'s authorisation.
    increment: bool = False

    def to_dict(self) -> dict[str, Any]:
        dumped: dict[str, Any] = CanonicalEventOutputSchema().dump(self)
        return dumped


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(CanonicalEvent))


def event_of(values: dict[str, Any]) -> CanonicalEvent:
    """The event whose fields are ``values``, which must name every field (and is kept
    as the event's own: do not change it afterwards).

    The same event as ``CanonicalEvent(**values)``, several times cheaper: a frozen
    dataclass's ``__init__`` sets each of its 21 fields through ``object.__setattr__``,
    and a statement import builds one event a line. Neither checks the values:
    ``check_event`` does, for events built either way.
    """
    if values.keys() != _FIELD_NAMES:
        wrong = sorted(values.keys() ^ _FIELD_NAMES)
        raise TypeError(f"a canonical event names every field once: {', '.join(wrong)}")
    event = object.__new__(CanonicalEvent)
    object.__setattr__(event, "__dict__", values)
    return event


class _KindRules(NamedTuple):
    needs_payment_id: bool
    needs_amount: bool
    needs_payee: bool
    needs_card_status: bool


# What each kind needs, looked up once an event (an enum's hash is a Python call).
_RULES = {
    kind: _KindRules(
        kind in _NEEDS_PAYMENT_ID,
        kind not in _NO_AMOUNT,
        kind in BANK_PAYMENT_CODES,
        kind is EventKind.CARD_STATUS,
    )
    for kind in EventKind
}


def check_event(event: CanonicalEvent) -> list[str]:
    """The per-kind rules an event must keep; returns what is wrong (empty when fine)."""
    problems = []
    kind = event.kind
    needs_payment_id, needs_amount, needs_payee, needs_card_status = _RULES[kind]
    amount = event.amount
    if event.occurred_at.tzinfo is None:
        problems.append("occurred_at must carry a time zone")
    if needs_payment_id and not event.payment_id:
        problems.append(f"a {kind} needs the payment_id of its authorisation")
    full_reversal = kind is EventKind.REVERSAL and event.full
    if needs_amount and amount <= 0 and not full_reversal:
        problems.append(f"a {kind} needs an amount above zero")
    if amount < 0:
        problems.append("amounts are never negative; the kind says which way money moves")
    if abs(amount) > MAX_AMOUNT:
        problems.append("amount is more than £1,000,000,000, the most one event may move")
    merchant_amount = event.merchant_amount
    if merchant_amount is not None and abs(merchant_amount) > MAX_AMOUNT:
        problems.append("merchant_amount is more than £1,000,000,000, the most one event may move")
    if needs_payee and not event.payee:
        problems.append(f"a {kind} needs the payee")
    if needs_card_status and event.card_status is None:
        problems.append("a card_status event needs the card_status")
    mcc = event.mcc
    if mcc is not None and not (len(mcc) == 4 and mcc.isdigit()):
        problems.append(f"{mcc!r} is not a four-digit merchant category code")
    currency = event.currency
    if currency != "GBP" and (
        len(currency) != 3 or not currency.isalpha() or not currency.isupper()
    ):
        problems.append(f"{currency!r} is not an ISO 4217 currency code")
    return problems


class Money(fields.Field):  # type: ignore[type-arg]
    """Decimal pounds on the wire ("12.34", or a JSON number read as Decimal), int pence
    inside. Binary floats and fractions of a penny are refused."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool | float) or not isinstance(value, str | int | Decimal):
            raise ValidationError('an amount is decimal pounds, such as "12.34"')
        if isinstance(value, str) and not _WIRE_POUNDS.fullmatch(value):
            raise ValidationError(
                'an amount is decimal pounds written plainly, such as "1234.50": digits, '
                "and at most two after a point (no £ sign, no commas)"
            )
        # Before any arithmetic: 1E+999999 is a valid JSON number.
        if not isinstance(value, str) and not (
            Decimal(value).is_finite() and abs(Decimal(value)) <= _MAX_POUNDS
        ):
            raise ValidationError("an amount is at most £1,000,000,000")
        try:
            pence = parse_pounds(value)
        except InvalidAmount as error:
            raise ValidationError(error.detail) from None
        if pence < 0 and not self.allow_negative:
            raise ValidationError("an amount cannot be negative")
        return pence

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return pence_to_decimal_text(int(value))


def pence_to_decimal_text(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"


class CanonicalEventSchema(Schema):
    """Input: a canonical event as JSON. Unknown fields are refused."""

    kind = fields.Enum(EventKind, by_value=True, required=True)
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_at = fields.AwareDateTime(required=True)
    card = fields.String(required=True, validate=validate.Length(min=1, max=128))
    amount = Money(load_default=0)
    currency = fields.String(load_default="GBP", validate=validate.Regexp(r"^[A-Z]{3}$"))
    merchant_amount = Money(allow_none=True, load_default=None)
    merchant_currency = fields.String(
        validate=validate.Regexp(r"^[A-Z]{3}$"), allow_none=True, load_default=None
    )
    payment_id = fields.String(
        validate=validate.Length(min=1, max=200), allow_none=True, load_default=None
    )
    merchant_name = fields.String(
        validate=validate.Length(max=200), allow_none=True, load_default=None
    )
    mcc = fields.String(validate=validate.Regexp(r"^\d{4}$"), allow_none=True, load_default=None)
    cash = fields.Boolean(load_default=False)
    payee = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)
    reference = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)
    full = fields.Boolean(load_default=False)
    absolute = fields.Boolean(load_default=False)
    reason = fields.String(validate=validate.Length(max=64), allow_none=True, load_default=None)
    card_status = fields.Enum(CardStatus, by_value=True, allow_none=True, load_default=None)
    emergency = fields.Boolean(load_default=False)
    increment = fields.Boolean(load_default=False)

    @validates_schema
    def _per_kind_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = check_event(_build(data))
        if problems:
            raise ValidationError(problems)

    @post_load
    def _make(self, data: dict[str, Any], **_kwargs: Any) -> CanonicalEvent:
        return _build(data)


def _build(data: Mapping[str, Any]) -> CanonicalEvent:
    values = dict(data)
    values["card_token"] = values.pop("card")
    values["occurred_at"] = values["occurred_at"].astimezone(UTC)
    return CanonicalEvent(**values)


class CanonicalEventOutputSchema(Schema):
    """Output: a canonical event as JSON (amounts as decimal pounds)."""

    kind = fields.Enum(EventKind, by_value=True)
    event_id = fields.String()
    occurred_at = fields.AwareDateTime()
    card = fields.String(attribute="card_token")
    amount = Money()
    currency = fields.String()
    merchant_amount = Money()
    merchant_currency = fields.String()
    payment_id = fields.String()
    merchant_name = fields.String()
    mcc = fields.String()
    cash = fields.Boolean()
    payee = fields.String()
    reference = fields.String()
    full = fields.Boolean()
    absolute = fields.Boolean()
    reason = fields.String()
    card_status = fields.Enum(CardStatus, by_value=True)
    emergency = fields.Boolean()
    increment = fields.Boolean()


def load_event(data: Mapping[str, Any]) -> CanonicalEvent:
    """A canonical event from its JSON form; ``MalformedPayload`` says what is wrong."""
    try:
        event: CanonicalEvent = CanonicalEventSchema().load(data)
    except ValidationError as error:
        raise MalformedPayload(
            f"not a valid canonical event: {_flatten(error.messages)}", errors=error.messages
        ) from None
    return event


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return ", ".join(_flatten(m) for m in messages)
    return str(messages)


def describe_event(event: CanonicalEvent) -> dict[str, Any]:
    """The event as plain values, for logs and tests."""
    out = asdict(event)
    out["kind"] = event.kind.value
    return out
