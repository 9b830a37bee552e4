"""Marqeta, in Marqeta's words.

Two endpoints, both framework-free here:
- ``handle_webhook``: the transactions webhook, ``{"transactions": [...]}``, checked with
  Basic Auth and, when secrets are configured, the ``X-Marqeta-Signature`` HMAC of the body;
  every transaction is stored in the inbox (by its token) and applied.
- ``handle_gateway``: Gateway JIT Funding requests, answered synchronously: 200 with the
  ``jit_funding`` object to approve, 402 with a ``decline_reason`` to decline.

Transaction types: ``authorization`` (approved: an advice of the hold; declined: a
decline), ``authorization.advice`` (an adjusted amount for its authorisation, or a stand-in
approval), ``authorization.incremental``, ``authorization.clearing``,
``authorization.reversal``, ``authorization.reversal.issuerexpiration`` (expiry),
``refund``, ``pindebit`` and ``pindebit.atm.withdrawal`` (settled at once: force posts),
``gpa.credit`` (a load) and ``gpa.debit`` (an unload). ``preceding_related_transaction_token``
links an event to its authorisation. Amounts are decimal pounds (10 means 10.00): read as
Decimal, never float. Other types are recorded and ignored; fields we do not use stay in
the stored raw body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy.orm import Session

from adapters import mcc as mcc_codes
from adapters.authorisation import AuthorisationPolicy, DeclineReason
from adapters.canonical import CanonicalEvent, EventKind, Money, pence_to_decimal_text
from adapters.errors import MalformedPayload, NotAuthenticated, SignatureInvalid
from adapters.formats import Ignore, RawEvent, header, parse_json
from adapters.inbox import deliver
from adapters.outbound import MONEY_COMMANDS, ProviderReply
from adapters.payments import Outcome
from adapters.repositories import cards as cards_repo
from adapters.signatures import verify_body_hmac
from adapters.webhooks import ProviderSecrets, WebhookResponse, problem
from ledger.clock import Clock
from ledger.errors import DomainError
from ledger.ports import CardCommand
from ledger.service import Ledger

PROVIDER = "marqeta"

# Our decline reasons in Marqeta's JIT vocabulary.
JIT_DECLINE_REASONS = {
    "insufficient_funds": "INSUFFICIENT_FUNDS",
    "card_suspended": "CARD_NOT_ACTIVE",
    "card_closed": "CLOSED_ACCOUNT",
    "account_closed": "CLOSED_ACCOUNT",
    DeclineReason.UNKNOWN_CARD: "INVALID_CARD",
    DeclineReason.BLOCKED_CATEGORY: "INVALID_MERCHANT",
    DeclineReason.CASH_ALLOWANCE_EXCEEDED: "AMOUNT_LIMIT_EXCEEDED",
    DeclineReason.INVALID_AMOUNT: "INVALID_AMOUNT",
    DeclineReason.CURRENCY_NOT_SUPPORTED: "TRANSACTION_NOT_PERMITTED",
}
_APPROVED_STATES = frozenset({"PENDING", "COMPLETION", "CLEARED"})


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


class _JitFunding(_Base):
    token = fields.String(required=True)
    method = fields.String(required=True)
    user_token = fields.String(load_default=None, allow_none=True)
    acting_user_token = fields.String(load_default=None, allow_none=True)
    amount = Money(required=True)


class _GpaOrder(_Base):
    token = fields.String(load_default=None, allow_none=True)
    jit_funding = fields.Nested(_JitFunding, load_default=None, allow_none=True)


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
        data = parse_json(body)
        if channel == "gateway":
            if not isinstance(data, Mapping):
                raise MalformedPayload("a JIT Funding request is a JSON object")
            jit = _jit_of(data)
            return [RawEvent(jit["token"], f"jit.{jit['method']}", 0, data)]
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
        jit = _jit_of(raw.payload)
        method = jit["method"]
        if method not in ("pgfs.authorization", "pgfs.authorization.incremental"):
            return Ignore(f"JIT {method} is informative; the transactions webhook reports it")
        increment = method.endswith(".incremental")
        payment_id = (
            tx["preceding_related_transaction_token"] if increment else tx["token"]
        ) or jit["token"]
        common = self._common(tx, event_id=tx["token"])
        common["amount"] = jit["amount"]
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
        if state in ("DECLINED", "ERROR"):
            if kind == "authorization":
                response = tx["response"] or {}
                reason = response.get("code") or response.get("memo") or state.lower()
                return CanonicalEvent(
                    kind=EventKind.DECLINE, payment_id=tx["token"], reason=str(reason)[:48],
                    **common,
                )  # fmt: skip
            return Ignore(f"{kind} {state.lower()}: nothing moved")
        if kind == "authorization":
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
        if kind == "authorization.clearing":
            return CanonicalEvent(kind=EventKind.CLEARING, payment_id=preceding, **common)
        if kind == "authorization.reversal":
            full = common["amount"] == 0
            return CanonicalEvent(
                kind=EventKind.REVERSAL, payment_id=_linked(preceding, kind), full=full, **common
            )
        if kind == "authorization.reversal.issuerexpiration":
            return CanonicalEvent(
                kind=EventKind.EXPIRY, payment_id=_linked(preceding, kind), **common
            )
        if kind == "refund":
            return CanonicalEvent(kind=EventKind.REFUND, payment_id=preceding, **common)
        if kind in ("pindebit", "pindebit.atm.withdrawal"):
            cash = kind.endswith("atm.withdrawal") or common["cash"]
            return CanonicalEvent(kind=EventKind.CLEARING, **{**common, "cash": cash})
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


def _jit_of(data: Mapping[str, Any]) -> dict[str, Any]:
    order = data.get("gpa_order")
    jit = order.get("jit_funding") if isinstance(order, Mapping) else data.get("jit_funding")
    try:
        loaded: dict[str, Any] = _JitFunding().load(jit if isinstance(jit, Mapping) else {})
    except ValidationError as error:
        raise MalformedPayload(
            f"a JIT Funding request carries jit_funding: {error.messages}"
        ) from None
    return loaded


FORMAT = MarqetaFormat()


def authenticate(raw_body: bytes, headers: Mapping[str, str], secrets: ProviderSecrets) -> None:
    """Basic Auth against the configured credentials, then the body HMAC when configured."""
    if not secrets.marqeta_basic_auth:
        raise NotAuthenticated("no Marqeta webhook credentials are configured")
    given = header(headers, "Authorization") or ""
    scheme, _, encoded = given.partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("Basic Auth credentials are required") from None
    if scheme.lower() != "basic" or not any(
        hmac.compare_digest(user.encode(), u.encode())
        & hmac.compare_digest(password.encode(), p.encode())
        for u, p in secrets.marqeta_basic_auth
    ):
        raise NotAuthenticated("the Basic Auth credentials are wrong")
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


def handle_gateway(
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    clock: Clock,
    secrets: ProviderSecrets,
    *,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """A Gateway JIT Funding request: decide, hold, answer (200 approve, 402 decline)."""
    try:
        authenticate(raw_body, headers, secrets)
        events = FORMAT.split(raw_body, "gateway")
    except NotAuthenticated as error:
        return problem(error)
    except (SignatureInvalid, MalformedPayload) as error:
        return problem(error)
    (raw,) = events
    jit = _jit_of(raw.payload)
    if jit["method"] == "pgfs.balanceinquiry":
        return _balance(session, clock, raw, jit)
    try:
        (result,) = deliver(
            session,
            clock,
            provider=PROVIDER,
            channel="gateway",
            body=raw_body,
            headers=_kept(headers),
            events=events,
            policy=policy,
            respond=_respond,
        )
    except Exception:
        return _jit_answer(jit, None, "TRANSACTION_NOT_PERMITTED")
    stored = result.response
    if stored is None:  # informative messages: acknowledge
        return WebhookResponse(200, {"jit_funding": _echo(jit)})
    return WebhookResponse(int(stored["http_status"]), dict(stored["body"]))


def _respond(raw: RawEvent, outcome: Outcome) -> dict[str, Any] | None:
    jit = _jit_of(raw.payload)
    if not raw.event_type.startswith("jit.pgfs.authorization"):
        return None
    decision = outcome.decision
    if decision is not None and decision.approved:
        answer = _jit_answer(jit, decision.amount, None)
    else:
        ours = decision.reason if decision is not None else (outcome.detail or "").split(":")[0]
        answer = _jit_answer(
            jit, None, JIT_DECLINE_REASONS.get(ours or "", "TRANSACTION_NOT_PERMITTED")
        )
    return {"http_status": answer.status, "body": answer.json_body}


def _echo(jit: Mapping[str, Any]) -> dict[str, Any]:
    out = {"token": jit["token"], "method": jit["method"]}
    for name in ("user_token", "acting_user_token"):
        if jit.get(name):
            out[name] = jit[name]
    out["amount"] = pence_to_decimal_text(jit["amount"])
    return out


def _jit_answer(jit: Mapping[str, Any], amount: int | None, decline: str | None) -> WebhookResponse:
    body = _echo(jit)
    if amount is not None:
        body["amount"] = pence_to_decimal_text(amount)
    if decline is not None:
        body["decline_reason"] = decline
        return WebhookResponse(402, {"jit_funding": body})
    return WebhookResponse(200, {"jit_funding": body})


def _balance(
    session: Session, clock: Clock, raw: RawEvent, jit: Mapping[str, Any]
) -> WebhookResponse:
    """A balance inquiry: the available balance of what the card draws on."""
    token = raw.payload.get("card_token")
    card = cards_repo.card_ref(session, PROVIDER, str(token)) if token else None
    if card is None:
        return _jit_answer(jit, None, "INVALID_CARD")
    available = Ledger(session, clock).balances(card.account_id).available
    body = _echo(jit)
    body["balances"] = {
        "GBP": {"currency_code": "GBP", "available_balance": pence_to_decimal_text(available)}
    }
    return WebhookResponse(200, {"jit_funding": body})


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
