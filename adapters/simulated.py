"""A simulated card provider, used by the demo and the tests through the same adapter
interface as the real ones.

On the wire it sends canonical events, ``{"events": [...]}``, signed like Stripe
(``X-Simulated-Signature: t=…,v1=…``) with a shared secret, to ``handle_webhook``, which
stores and applies them through the inbox and answers real-time authorisation requests.

``SimulatedProvider`` plays the provider: it turns card activity (a purchase, its
clearing, a reversal, a refund, a load, a bank payment …) into signed deliveries, and it
is the provider's end of outbound commands (``ProviderClient``), keeping each card's
status and honouring idempotency keys so a retried command has one effect.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from adapters.api_events import CanonicalFormat, respond, results
from adapters.authorisation import AuthorisationPolicy
from adapters.canonical import CanonicalEvent, EventKind
from adapters.errors import MalformedPayload, SignatureInvalid
from adapters.formats import header
from adapters.inbox import deliver
from adapters.outbound import ProviderReply
from adapters.signatures import sign_timestamped, verify_timestamped
from adapters.webhooks import ProviderSecrets, WebhookResponse, problem
from ledger.clock import Clock
from ledger.errors import DomainError
from ledger.ports import CardCommand

PROVIDER = "simulated"
SIGNATURE_HEADER = "X-Simulated-Signature"


class SimulatedFormat(CanonicalFormat):
    """The simulated provider speaks canonical events (see ``adapters.api_events``)."""

    name = PROVIDER


FORMAT = SimulatedFormat()


def handle_webhook(
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    clock: Clock,
    secrets: ProviderSecrets,
    *,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """Verify, store, apply; answer each event (requests with the decision). Commits."""
    try:
        verify_timestamped(
            raw_body,
            header(headers, SIGNATURE_HEADER),
            secrets.simulated_secrets,
            clock.now(),
            secrets.tolerance_seconds,
        )
        events = FORMAT.split(raw_body, "webhook")
    except (SignatureInvalid, MalformedPayload) as error:
        return problem(error)
    try:
        delivered = deliver(
            session,
            clock,
            provider=PROVIDER,
            channel="webhook",
            body=raw_body,
            headers={SIGNATURE_HEADER: header(headers, SIGNATURE_HEADER) or ""},
            events=events,
            policy=policy,
            respond=respond,
        )
    except Exception:
        return problem(DomainError("the events were stored but not all could be applied"), 500)
    return WebhookResponse(200, results(delivered))


@dataclass
class SimulatedCard:
    token: str
    status: str = "active"


@dataclass
class SimulatedProvider:
    """The provider's side, for the demo and tests (see the module docstring)."""

    session: Session
    clock: Clock
    secret: str = "simulated-secret"  # noqa: S105 (a test double's shared secret)
    policy: AuthorisationPolicy | None = None
    cards: dict[str, SimulatedCard] = field(default_factory=dict)
    commands_seen: dict[str, ProviderReply] = field(default_factory=dict)
    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    provider = PROVIDER

    @property
    def secrets(self) -> ProviderSecrets:
        return ProviderSecrets(simulated_secrets=(self.secret,))

    # -- webhooks to dpledger -----------------------------------------------------------

    def body(self, *events: CanonicalEvent) -> bytes:
        return json.dumps({"events": [e.to_dict() for e in events]}).encode()

    def signed(
        self, body: bytes, *, secret: str | None = None, at: int | None = None
    ) -> dict[str, str]:
        timestamp = int(self.clock.now().timestamp()) if at is None else at
        return {SIGNATURE_HEADER: sign_timestamped(body, secret or self.secret, timestamp)}

    def send(self, *events: CanonicalEvent) -> WebhookResponse:
        body = self.body(*events)
        return handle_webhook(
            self.session, body, self.signed(body), self.clock, self.secrets, policy=self.policy
        )

    def event(
        self, kind: EventKind, card_token: str, amount: int = 0, **extra: Any
    ) -> CanonicalEvent:
        """A canonical event with a fresh id, happening now."""
        return CanonicalEvent(
            kind=kind,
            event_id=extra.pop("event_id", None) or f"sim_{next(self._ids)}",
            occurred_at=self.clock.now(),
            card_token=card_token,
            amount=amount,
            **extra,
        )

    def purchase(
        self,
        card_token: str,
        amount: int,
        *,
        merchant: str = "Simulated merchant",
        mcc: str = "5411",
        payment_id: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Ask for a real-time authorisation; returns (payment id, dpledger's answer)."""
        pid = payment_id or f"sim_auth_{next(self._ids)}"
        request = self.event(
            EventKind.AUTHORISATION_REQUEST,
            card_token,
            amount,
            payment_id=pid,
            event_id=pid,
            merchant_name=merchant,
            mcc=mcc,
            cash=mcc in ("6010", "6011"),
        )
        response = self.send(request)
        return pid, response.json_body["results"][0]

    def follow_up(
        self, kind: EventKind, card_token: str, payment_id: str, amount: int = 0, **extra: Any
    ) -> WebhookResponse:
        """A clearing, reversal, expiry, increment or refund of an earlier payment."""
        return self.send(self.event(kind, card_token, amount, payment_id=payment_id, **extra))

    def with_id(self, event: CanonicalEvent, event_id: str) -> CanonicalEvent:
        return replace(event, event_id=event_id)

    # -- outbound commands from dpledger ------------------------------------------------

    def execute(
        self, card_token: str, command: CardCommand, *, key: str, amount: int | None
    ) -> ProviderReply:
        """The provider carrying out a command, once per key."""
        self.calls += 1
        if key in self.commands_seen:
            return self.commands_seen[key]
        card = self.cards.setdefault(card_token, SimulatedCard(card_token))
        if card.status == "closed":
            reply = ProviderReply(False, False, "card is closed")
        elif command is CardCommand.SUSPEND:
            card.status, reply = "suspended", ProviderReply(True, False, "card suspended")
        elif command is CardCommand.UNSUSPEND:
            card.status, reply = "active", ProviderReply(True, False, "card active")
        elif command is CardCommand.CLOSE:
            card.status, reply = "closed", ProviderReply(True, False, "card closed")
        else:
            reply = ProviderReply(True, False, f"{command} of {amount}p recorded")
        self.commands_seen[key] = reply
        return reply
