"""Marqeta, in Marqeta's words.

- ``handle_webhook``: the transactions webhook, ``{"transactions": [...]}``, checked with
  Basic Auth and, when secrets are configured, the ``X-Marqeta-Signature`` HMAC of the body;
  every transaction is stored in the inbox (by its token) and applied.
- Gateway JIT Funding requests are answered by ``adapters.marqeta_gateway``; this module's
  format reads them too (the inbox reads every stored Marqeta delivery through ``FORMAT``).

Transaction types: ``authorization`` and its ATM, cash-back, quasi-cash and PIN-debit
forms (approved: an advice of the hold; declined: a decline, which ends a hold our gateway
placed), ``authorization.advice`` (an adjusted amount for its authorisation, or a stand-in
approval), ``authorization.incremental``, ``authorization.clearing`` (and its ATM,
cash-back, quasi-cash and PIN-debit forms), ``authorization.reversal``,
``authorization.reversal.issuerexpiration`` (expiry), ``refund``, ``pindebit``,
``pindebit.atm.withdrawal``, ``pindebit.cashback`` and ``pindebit.quasi.cash`` (single
messages, settled at once: a clearing of the hold our gateway placed for the same token,
or a force post), ``gpa.credit`` (a load) and ``gpa.debit`` (an unload).
``preceding_related_transaction_token`` links an event to its authorisation. Amounts are
decimal pounds (10 means 10.00): read as Decimal, never float. Other types are recorded and
ignored; fields we do not use stay in the stored raw body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy.orm import Session

from adapters import mcc as mcc_codes
from adapters.authorisation import AuthorisationPolicy
from adapters.canonical import CanonicalEvent, EventKind, Money
from adapters.errors import MalformedPayload, NotAuthenticated, SignatureInvalid
from adapters.formats import Ignore, RawEvent, header, parse_json
from adapters.inbox import deliver
from adapters.marqeta_gateway import CASH_METHODS, INCREMENT, JitRole, jit_of, jit_role
from adapters.marqeta_gateway import split_gateway as _split_gateway
from adapters.outbound import MONEY_COMMANDS, ProviderReply
from adapters.signatures import check_basic_auth, verify_body_hmac
from adapters.webhooks import ProviderSecrets, WebhookResponse, problem
from ledger.clock import Clock
from ledger.errors import DomainError
from ledger.ports import CardCommand

PROVIDER = "marqeta"

# Transaction types by what they are to a card payment. The ATM ones are cash.
_AUTHORISATIONS = frozenset(
    {
        "authorization",
        "authorization.atm.withdrawal",
        "authorization.cashback",
        "authorization.quasi.cash",
        "pindebit.authorization",
    }
)
_CLEARINGS = frozenset(
    {
        "authorization.clearing",
        "authorization.clearing.atm.withdrawal",
        "authorization.clearing.cashback",
        "authorization.clearing.quasi.cash",
        "pindebit.authorization.clearing",
    }
)
_REVERSALS = frozenset({"authorization.reversal", "pindebit.authorization.reversal"})
_EXPIRIES = frozenset(
    {
        "authorization.reversal.issuerexpiration",
        "pindebit.authorization.reversal.issuerexpiration",
    }
)
_REFUNDS = frozenset({"refund", "pindebit.refund"})
# Single messages: authorised and settled at once.
_SETTLED_AT_ONCE = frozenset(
    {"pindebit", "pindebit.atm.withdrawal", "pindebit.cashback", "pindebit.quasi.cash"}
)


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


class _CardAcceptor(_Base):
    mcc = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)


class _Original(_Base):
    original_amount = Money(load_default=None, allow_none=True)
    original_currency_code = fields.String(load_default=None, allow_none=True)


class _Conversion(_Base):
    network = fields.Nested(_Original, load_default=None, allow_none=True)


class _Response(_Base):
    code = fields.String(load_default=None, allow_none=True)
    memo = fields.String(load_default=None, allow_none=True)


class _GpaOrder(_Base):
    token = fields.String(load_default=None, allow_none=True)


class _Transaction(_Base):
    type = fields.String(required=True)
    state = fields.String(load_default=None, allow_none=True)
    token = fields.String(required=True)
    card_token = fields.String(required=True)
    amount = Money(load_default=0)
    currency_code = fields.String(load_default="GBP")
    created_time = fields.AwareDateTime(default_timezone=UTC, load_default=None)
    user_transaction_time = fields.AwareDateTime(default_timezone=UTC, load_default=None)
    preceding_related_transaction_token = fields.String(load_default=None, allow_none=True)
    card_acceptor = fields.Nested(_CardAcceptor, load_default=dict)
    currency_conversion = fields.Nested(_Conversion, load_default=None, allow_none=True)
    response = fields.Nested(_Response, load_default=None, allow_none=True)
    gpa_order = fields.Nested(_GpaOrder, load_default=None, allow_none=True)
    gpa_order_unload = fields.Nested(_GpaOrder, load_default=None, allow_none=True)
    memo = fields.String(load_default=None, allow_none=True)


def _load_transaction(data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = _Transaction().load(data)
    except ValidationError as error:
        raise MalformedPayload(f"not a Marqeta transaction: {error.messages}") from None
    return loaded


class MarqetaFormat:
    name = PROVIDER

    def split(self, body: bytes, channel: str) -> list[RawEvent]:
        if channel == "gateway":
            return _split_gateway(body)
        data = parse_json(body)
        if not isinstance(data, Mapping) or not isinstance(data.get("transactions"), list):
            raise MalformedPayload('a Marqeta transactions webhook is {"transactions": [...]}')
        out = []
        for position, item in enumerate(data["transactions"]):
            if not isinstance(item, Mapping) or not isinstance(item.get("token"), str):
                raise MalformedPayload(f"transaction {position} has no token")
            out.append(RawEvent(item["token"], str(item.get("type", "")), position, item))
        return out

    def to_canonical(self, raw: RawEvent) -> CanonicalEvent | Ignore:
        tx = _load_transaction(raw.payload)
        if raw.event_type.startswith("jit."):
            return self._jit_request(raw, tx)
        return self._transaction(tx)

    def _jit_request(self, raw: RawEvent, tx: dict[str, Any]) -> CanonicalEvent | Ignore:
        jit = jit_of(raw.payload)
        method = jit["method"]
        role = jit_role(method)
        if role is JitRole.MONEY_IN:
            return Ignore(f"JIT {method}: money in, approved without a hold")
        if role is JitRole.NOTIFICATION:
            return Ignore(f"JIT {method} is informative; the transactions webhook reports it")
        if role is not JitRole.MONEY_OUT:
            return Ignore(f"JIT {method} is not a method dpledger knows: declined")
        increment = method == INCREMENT
        payment_id = (
            tx["preceding_related_transaction_token"] if increment else tx["token"]
        ) or jit["token"]
        common = self._common(tx, event_id=tx["token"])
        common["amount"] = jit["amount"]
        common["cash"] = common["cash"] or method in CASH_METHODS
        return CanonicalEvent(
            kind=EventKind.AUTHORISATION_REQUEST,
            increment=increment,
            payment_id=payment_id,
            **common,
        )

    def _transaction(self, tx: dict[str, Any]) -> CanonicalEvent | Ignore:
        kind = tx["type"]
        state = (tx["state"] or "").upper()
        preceding = tx["preceding_related_transaction_token"]
        common = self._common(tx, event_id=tx["token"])
        if "atm.withdrawal" in kind:
            common["cash"] = True
        if state in ("DECLINED", "ERROR"):
            if kind in _AUTHORISATIONS or kind in _SETTLED_AT_ONCE:
                response = tx["response"] or {}
                reason = response.get("code") or response.get("memo") or state.lower()
                return CanonicalEvent(
                    kind=EventKind.DECLINE, payment_id=tx["token"], reason=str(reason)[:48],
                    **common,
                )  # fmt: skip
            return Ignore(f"{kind} {state.lower()}: nothing moved")
        if kind in _AUTHORISATIONS:
            return CanonicalEvent(
                kind=EventKind.AUTHORISATION_ADVICE, payment_id=tx["token"], **common
            )
        if kind == "authorization.advice":
            return CanonicalEvent(
                kind=EventKind.AUTHORISATION_ADVICE,
                payment_id=preceding or tx["token"],
                absolute=preceding is not None,
                **common,
            )
        if kind == "authorization.incremental":
            return CanonicalEvent(
                kind=EventKind.INCREMENTAL_AUTHORISATION, payment_id=_linked(preceding, kind),
                **common,
            )  # fmt: skip
        if kind in _CLEARINGS:
            return CanonicalEvent(kind=EventKind.CLEARING, payment_id=preceding, **common)
        if kind in _REVERSALS:
            full = common["amount"] == 0
            return CanonicalEvent(
                kind=EventKind.REVERSAL, payment_id=_linked(preceding, kind), full=full, **common
            )
        if kind in _EXPIRIES:
            return CanonicalEvent(
                kind=EventKind.EXPIRY, payment_id=_linked(preceding, kind), **common
            )
        if kind in _REFUNDS:
            return CanonicalEvent(kind=EventKind.REFUND, payment_id=preceding, **common)
        if kind in _SETTLED_AT_ONCE:
            # The payment is the transaction itself: its clearing settles the hold our
            # gateway placed for the same token (or is a force post), under a ledger key
            # of its own so it is not taken for a repeat of that hold.
            return CanonicalEvent(
                kind=EventKind.CLEARING,
                payment_id=tx["token"],
                **{**common, "event_id": f"{tx['token']}:settled"},
            )
        if kind in ("gpa.credit", "gpa.debit"):
            order = tx["gpa_order"] if kind == "gpa.credit" else tx["gpa_order_unload"]
            reference = (order or {}).get("token") or tx["memo"]
            return CanonicalEvent(
                kind=EventKind.LOAD if kind == "gpa.credit" else EventKind.UNLOAD,
                reference=reference,
                **common,
            )
        return Ignore(f"{kind} transactions are not used by dpledger")

    @staticmethod
    def _common(tx: dict[str, Any], *, event_id: str) -> dict[str, Any]:
        acceptor = tx["card_acceptor"] or {}
        mcc = acceptor.get("mcc")
        if not (isinstance(mcc, str) and mcc_codes.valid_mcc(mcc)):
            mcc = None
        name = acceptor.get("name")
        original = (tx["currency_conversion"] or {}).get("network") or {}
        occurred = tx["user_transaction_time"] or tx["created_time"]
        if occurred is None:
            raise MalformedPayload("a Marqeta transaction carries created_time")
        out: dict[str, Any] = {
            "event_id": event_id,
            "occurred_at": occurred.astimezone(UTC),
            "card_token": tx["card_token"],
            "amount": tx["amount"],
            "currency": str(tx["currency_code"]).upper(),
            "merchant_name": name[:200] if isinstance(name, str) else None,
            "mcc": mcc,
            "cash": mcc_codes.is_cash(mcc),
        }
        if original.get("original_amount") is not None and original.get("original_currency_code"):
            out["merchant_amount"] = abs(original["original_amount"])
            out["merchant_currency"] = str(original["original_currency_code"]).upper()
        return out


def _linked(preceding: str | None, kind: str) -> str:
    if not preceding:
        raise MalformedPayload(
            f"a {kind} names its authorisation in preceding_related_transaction_token"
        )
    return preceding


FORMAT = MarqetaFormat()


def authenticate(raw_body: bytes, headers: Mapping[str, str], secrets: ProviderSecrets) -> None:
    """The webhook's Basic Auth, then the body HMAC when signature secrets are configured."""
    check_basic_auth(
        header(headers, "Authorization"), secrets.marqeta_basic_auth, "Marqeta webhook"
    )
    if secrets.marqeta_signature_secrets:
        verify_body_hmac(
            raw_body, header(headers, "X-Marqeta-Signature"), secrets.marqeta_signature_secrets
        )


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    # Never the Authorization header: only that it was checked.
    kept = {"Authorization": "basic (verified)"}
    signature = header(headers, "X-Marqeta-Signature")
    if signature:
        kept["X-Marqeta-Signature"] = signature
    return kept


def handle_webhook(
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    clock: Clock,
    secrets: ProviderSecrets,
    *,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """The transactions webhook: authenticate, store, apply. Commits (see the inbox)."""
    try:
        authenticate(raw_body, headers, secrets)
        events = FORMAT.split(raw_body, "webhook")
    except NotAuthenticated as error:
        response = problem(error)
        response.headers["WWW-Authenticate"] = 'Basic realm="dpledger"'
        return response
    except (SignatureInvalid, MalformedPayload) as error:
        return problem(error)
    try:
        results = deliver(
            session,
            clock,
            provider=PROVIDER,
            channel="webhook",
            body=raw_body,
            headers=_kept(headers),
            events=events,
            policy=policy,
        )
    except Exception:
        return problem(DomainError("the events were stored but not all could be applied"), 500)
    return WebhookResponse(
        200,
        {"received": [{"token": r.provider_event_id, "status": r.status.value} for r in results]},
    )


Transport = Callable[[str, str, Mapping[str, Any]], tuple[int, Mapping[str, Any]]]


class MarqetaCommands:
    """Outbound commands through Marqeta's Core API (``ProviderClient``).

    Suspend, unsuspend and close are card transitions (``SUSPENDED``, ``ACTIVE``,
    ``TERMINATED``) whose token is derived from our idempotency key, so Marqeta refuses a
    second one as a duplicate. With Gateway JIT Funding a card holds no balance at Marqeta
    (each payment is funded when we approve it), so loads and unloads are ledger only.
    ``transport(method, path, json) -> (status, json)`` does the HTTP; see ``urllib_transport``.
    """

    provider = PROVIDER
    _STATE = {
        CardCommand.SUSPEND: "SUSPENDED",
        CardCommand.UNSUSPEND: "ACTIVE",
        CardCommand.CLOSE: "TERMINATED",
    }

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def execute(
        self, card_token: str, command: CardCommand, *, key: str, amount: int | None
    ) -> ProviderReply:
        if command in MONEY_COMMANDS:
            return ProviderReply(True, False, "ledger only: JIT-funded cards hold no balance")
        token = hashlib.sha256(key.encode()).hexdigest()[:36]
        body = {
            "token": token,
            "card_token": card_token,
            "state": self._STATE[command],
            "channel": "API",
            "reason_code": "01",
            "reason": f"dpledger {command}",
        }
        try:
            status, reply = self.transport("POST", "/cardtransitions", body)
        except OSError as error:
            return ProviderReply(False, True, f"{type(error).__name__}: {error}")
        if status in (200, 201):
            return ProviderReply(True, False, f"card transition {token} {reply.get('state')}")
        if status == 409:  # the same token again: it was done the first time
            return ProviderReply(True, False, f"card transition {token} already made")
        return ProviderReply(False, status >= 500 or status == 429, f"HTTP {status}: {reply}")


def urllib_transport(base_url: str, application_token: str, access_token: str) -> Transport:
    """HTTP for ``MarqetaCommands`` with the standard library and Basic Auth."""
    credentials = base64.b64encode(f"{application_token}:{access_token}".encode()).decode()

    def send(method: str, path: str, body: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]]:
        request = urllib.request.Request(  # noqa: S310 (an https URL from configuration)
            base_url.rstrip("/") + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    return send
