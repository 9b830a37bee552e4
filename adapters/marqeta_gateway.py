"""Marqeta Gateway JIT Funding, in Marqeta's words.

For a JIT-funded card Marqeta asks our gateway, synchronously, whether to fund each
transaction. The body is the transaction with a ``jit_funding`` object (in ``gpa_order``)
whose ``method`` says what is asked; we answer 200 with the ``jit_funding`` object to
approve, 402 with its ``decline_reason`` to decline. By method (Marqeta's
``jit_funding.method`` list):

- money out (purchases, PIN debits, ATM withdrawals, cash back, quasi-cash, bill payments,
  single-message auth-plus-capture): an authorisation request, decided like any other (the
  ATM ones as cash, against the plan's cash allowance); an approval places the hold, which
  the transactions webhook's clearing (or, for a PIN debit, its completion) settles;
- money in (refunds, original credits, network loads): approved, nothing held; the
  webhook's refund or load moves the money;
- notifications of what Marqeta has already done (clearings, reversals, advices,
  stand-ins, chargebacks, adjustments): acknowledged; the webhook reports them;
- balance inquiries: the available balance; account verification: the card's status;
- any other method: declined (``TRANSACTION_NOT_PERMITTED``), so nothing Marqeta adds
  later is approved unchecked.

Authentication is the program gateway funding source's own Basic Auth
(``ProviderSecrets.marqeta_gateway_basic_auth``): Marqeta signs webhook notifications with
``X-Marqeta-Signature``, never gateway requests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy.orm import Session

from adapters.authorisation import AuthorisationPolicy, DeclineReason
from adapters.canonical import Money, pence_to_decimal_text
from adapters.errors import MalformedPayload, NotAuthenticated
from adapters.formats import RawEvent, format_for, header, parse_json
from adapters.inbox import deliver, durable_recorded_decision
from adapters.payments import Outcome
from adapters.quick_load import QuickLoad
from adapters.repositories import cards as cards_repo
from adapters.signatures import check_basic_auth
from adapters.webhooks import ProviderSecrets, WebhookResponse, problem
from ledger.clock import Clock
from ledger.models import CardStatus
from ledger.service import Ledger

log = logging.getLogger(__name__)

PROVIDER = "marqeta"
CHANNEL = "gateway"


class JitRole(StrEnum):
    MONEY_OUT = "money_out"
    MONEY_IN = "money_in"
    NOTIFICATION = "notification"
    BALANCE = "balance"
    VERIFICATION = "verification"
    UNKNOWN = "unknown"


INCREMENT = "pgfs.authorization.incremental"
CASH_METHODS = frozenset({"pgfs.atm.withdrawal", "pgfs.pindebit.atm.withdrawal"})
_MONEY_OUT = CASH_METHODS | {
    "pgfs.authorization",
    INCREMENT,
    "pgfs.authorization.cashback",
    "pgfs.authorization.quasi.cash",
    "pgfs.auth_plus_capture",
    "pgfs.auth_plus_capture.quasi.cash",
    "pgfs.pindebit",
    "pgfs.pindebit.authorization",
    "pgfs.pindebit.cashback",
    "pgfs.pindebit.quasi.cash",
    "pgfs.billpayment",
}
_MONEY_IN = {
    "pgfs.refund",
    "pgfs.refund.authorization",
    "pgfs.pindebit.refund",
    "pgfs.original.credit.authorization",
    "pgfs.original.credit.auth_plus_capture",
    "pgfs.network.load",
    "pgfs.directdeposit.credit",
}
_NOTIFICATIONS = {
    "pgfs.authorization.clearing",
    "pgfs.authorization.clearing.quasi.cash",
    "pgfs.authorization.advice",
    "pgfs.authorization.capture",
    "pgfs.authorization.reversal",
    "pgfs.authorization.standin",
    "pgfs.auth_plus_capture.standin",
    "pgfs.force_capture",
    "pgfs.atm.clearing.withdrawal",
    "pgfs.pindebit.authorization.clearing",
    "pgfs.pindebit.authorization.reversal",
    "pgfs.refund.authorization.clearing",
    "pgfs.refund.authorization.reversal",
    "pgfs.original.credit.authorization.clearing",
    "pgfs.original.credit.authorization.reversal",
    "pgfs.billpayment.capture",
    "pgfs.billpayment.reversal",
    "pgfs.authorization.capture.chargeback",
    "pgfs.authorization.capture.chargeback.reversal",
    "pgfs.pindebit.chargeback",
    "pgfs.pindebit.chargeback.reversal",
    "pgfs.dispute.credit",
    "pgfs.dispute.debit",
    "pgfs.adjustment.credit",
    "pgfs.adjustment.debit",
    "pgfs.directdeposit.debit",
    "pgfs.directdeposit.credit.reversal",
    "pgfs.directdeposit.debit.reversal",
}
_ROLES: dict[str, JitRole] = {
    **dict.fromkeys(_MONEY_OUT, JitRole.MONEY_OUT),
    **dict.fromkeys(_MONEY_IN, JitRole.MONEY_IN),
    **dict.fromkeys(_NOTIFICATIONS, JitRole.NOTIFICATION),
    "pgfs.balanceinquiry": JitRole.BALANCE,
    "pgfs.pindebit.balanceinquiry": JitRole.BALANCE,
    "pgfs.authorization.account_verification": JitRole.VERIFICATION,
}

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
NOT_PERMITTED = "TRANSACTION_NOT_PERMITTED"


def jit_role(method: str) -> JitRole:
    """What a JIT Funding method asks of us; ``UNKNOWN`` (declined) for any other."""
    return _ROLES.get(method, JitRole.UNKNOWN)


class _JitFunding(Schema):
    class Meta:
        unknown = EXCLUDE

    token = fields.String(required=True)
    method = fields.String(required=True)
    user_token = fields.String(load_default=None, allow_none=True)
    acting_user_token = fields.String(load_default=None, allow_none=True)
    amount = Money(required=True)


# Built once: safe to share, costly to make; read through QuickLoad (marshmallow's result).
_JIT_FUNDING = QuickLoad(_JitFunding())


def jit_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request's ``jit_funding`` object (in ``gpa_order``, or at the top level)."""
    order = data.get("gpa_order")
    jit = order.get("jit_funding") if isinstance(order, Mapping) else data.get("jit_funding")
    try:
        loaded: dict[str, Any] = _JIT_FUNDING.load(jit if isinstance(jit, Mapping) else {})
    except ValidationError as error:
        raise MalformedPayload(
            f"a JIT Funding request carries jit_funding: {error.messages}"
        ) from None
    return loaded


def split_gateway(body: bytes) -> list[RawEvent]:
    """A gateway request is one event, known by its JIT Funding token."""
    data = parse_json(body)
    if not isinstance(data, Mapping):
        raise MalformedPayload("a JIT Funding request is a JSON object")
    jit = jit_of(data)
    return [RawEvent(jit["token"], f"jit.{jit['method']}", 0, data)]


def handle_gateway(
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    clock: Clock,
    secrets: ProviderSecrets,
    *,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """A Gateway JIT Funding request: decide, hold, answer (200 approve, 402 decline).
    Commits (the inbox owns its transactions)."""
    try:
        check_basic_auth(
            header(headers, "Authorization"), secrets.marqeta_gateway_basic_auth, "Marqeta gateway"
        )
        events = split_gateway(raw_body)
    except NotAuthenticated as error:
        response = problem(error)
        response.headers["WWW-Authenticate"] = 'Basic realm="dpledger"'
        return response
    except MalformedPayload as error:
        return problem(error)
    (raw,) = events
    jit = jit_of(raw.payload)
    role = jit_role(jit["method"])
    if role is JitRole.BALANCE:
        return _balance(session, clock, raw, jit)
    if role is JitRole.VERIFICATION:
        return _verification(session, raw, jit)
    try:
        (result,) = deliver(
            session,
            clock,
            provider=PROVIDER,
            channel=CHANNEL,
            body=raw_body,
            headers={"Authorization": "basic (verified)"},
            events=events,
            policy=policy,
            respond=respond,
        )
    except Exception:
        # Nothing decided, or nothing shown durable (see stripe_issuing.handle_webhook):
        # declined, never approved unheld. Marqeta does not retry a gateway request.
        log.exception("JIT Funding request %s was not stored and applied", jit["token"])
        return jit_answer(jit, None, NOT_PERMITTED)
    stored = result.response
    if stored is None:
        # Applied by another delivery that recorded no answer: answer from the decision
        # recorded for it (none, after the deadline: declined), or approve what needs none.
        if role is JitRole.MONEY_OUT:
            return _recorded_answer(session, raw, jit)
        return _answer_without_decision(jit, role)
    return WebhookResponse(int(stored["http_status"]), dict(stored["body"]))


def respond(raw: RawEvent, outcome: Outcome) -> dict[str, Any] | None:
    """The answer to record for a gateway request, so a redelivery gets the same."""
    jit = jit_of(raw.payload)
    role = jit_role(jit["method"])
    if role is JitRole.MONEY_OUT:
        decision = outcome.decision
        if decision is not None and decision.approved:
            answer = jit_answer(jit, decision.amount, None)
        else:
            ours = decision.reason if decision is not None else (outcome.detail or "")
            answer = jit_answer(
                jit, None, JIT_DECLINE_REASONS.get((ours or "").split(":")[0], NOT_PERMITTED)
            )
    else:
        answer = _answer_without_decision(jit, role)
    return {"http_status": answer.status, "body": answer.json_body}


def _recorded_answer(session: Session, raw: RawEvent, jit: Mapping[str, Any]) -> WebhookResponse:
    """The answer from the decision recorded for the request (another delivery applied it
    without answering), once it is durable; declined when the database fails us."""
    try:
        event = format_for(PROVIDER, CHANNEL).to_canonical(raw)
    except MalformedPayload:
        return jit_answer(jit, None, NOT_PERMITTED)
    decision = durable_recorded_decision(
        session, PROVIDER, event, what=f"JIT Funding request {jit['token']}"
    )
    if decision is not None and decision.approved:
        return jit_answer(jit, decision.amount, None)
    reason = (decision.reason if decision is not None else None) or ""
    return jit_answer(jit, None, JIT_DECLINE_REASONS.get(reason, NOT_PERMITTED))


def _answer_without_decision(jit: Mapping[str, Any], role: JitRole) -> WebhookResponse:
    if role in (JitRole.MONEY_IN, JitRole.NOTIFICATION):
        return jit_answer(jit, None, None)
    return jit_answer(jit, None, NOT_PERMITTED)


def _echo(jit: Mapping[str, Any]) -> dict[str, Any]:
    out = {"token": jit["token"], "method": jit["method"]}
    for name in ("user_token", "acting_user_token"):
        if jit.get(name):
            out[name] = jit[name]
    out["amount"] = pence_to_decimal_text(jit["amount"])
    return out


def jit_answer(jit: Mapping[str, Any], amount: int | None, decline: str | None) -> WebhookResponse:
    """Marqeta's answer shape: the ``jit_funding`` object, with ``decline_reason`` and
    HTTP 402 to decline."""
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
        return jit_answer(jit, None, "INVALID_CARD")
    available = Ledger(session, clock).balances(card.account_id).available
    body = _echo(jit)
    body["balances"] = {
        "GBP": {"currency_code": "GBP", "available_balance": pence_to_decimal_text(available)}
    }
    return WebhookResponse(200, {"jit_funding": body})


def _verification(session: Session, raw: RawEvent, jit: Mapping[str, Any]) -> WebhookResponse:
    """An account verification (nothing is spent): approved while the card is active."""
    token = raw.payload.get("card_token")
    card = cards_repo.card_ref(session, PROVIDER, str(token)) if token else None
    if card is None:
        return jit_answer(jit, None, "INVALID_CARD")
    if card.status is not CardStatus.ACTIVE:
        return jit_answer(jit, None, JIT_DECLINE_REASONS[f"card_{card.status.value}"])
    return jit_answer(jit, None, None)
