"""Canonical events posted by API clients (the portal's JSON API), and the canonical
wire format the simulated provider uses too.

The body is ``{"events": [...]}``, each a canonical event (``CanonicalEventSchema``). The
inbox key of an event is ``"{kind}:{event_id}"``, so one provider id may carry, say, both
the authorisation request and its advice. The portal authenticates the client (JWT) and
names the card provider whose cards the events are about; this module stores, applies
and answers, like a provider's webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from adapters.authorisation import AuthorisationPolicy
from adapters.canonical import CanonicalEvent, EventKind, load_event
from adapters.errors import MalformedPayload
from adapters.formats import Ignore, RawEvent, parse_json
from adapters.inbox import Delivered, deliver
from adapters.payments import Outcome
from adapters.webhooks import WebhookResponse, problem
from ledger.clock import Clock
from ledger.errors import DomainError

CHANNEL = "api"


class CanonicalFormat:
    name = "canonical"

    def split(self, body: bytes, channel: str) -> list[RawEvent]:
        data = parse_json(body)
        if not isinstance(data, Mapping) or not isinstance(data.get("events"), list):
            raise MalformedPayload('canonical events come as {"events": [...]}')
        out = []
        for position, item in enumerate(data["events"]):
            if not isinstance(item, Mapping):
                raise MalformedPayload(f"event {position} is not an object")
            kind, event_id = item.get("kind"), item.get("event_id")
            if not isinstance(kind, str) or not isinstance(event_id, str) or not event_id:
                raise MalformedPayload(f"event {position} has no kind and event_id")
            out.append(RawEvent(f"{kind}:{event_id}", kind, position, item))
        return out

    def to_canonical(self, raw: RawEvent) -> CanonicalEvent | Ignore:
        return load_event(raw.payload)


FORMAT = CanonicalFormat()


def respond(raw: RawEvent, outcome: Outcome) -> dict[str, Any] | None:
    """The answer to a real-time request: approved, or declined with the reason."""
    if raw.event_type != EventKind.AUTHORISATION_REQUEST:
        return None
    decision = outcome.decision
    if decision is not None:
        return {"approved": decision.approved, "decline_reason": decision.reason}
    return {"approved": False, "decline_reason": (outcome.detail or "declined").split(":")[0]}


def results(delivered: list[Delivered]) -> dict[str, Any]:
    return {
        "results": [
            {
                "event": r.provider_event_id,
                "inbox_id": r.inbox_id,
                "status": r.status.value,
                "reason": r.reason,
                **(r.response or {}),
            }
            for r in delivered
        ]
    }


def handle_events(
    session: Session,
    raw_body: bytes,
    clock: Clock,
    *,
    provider: str,
    policy: AuthorisationPolicy | None = None,
) -> WebhookResponse:
    """Store and apply canonical events about ``provider``'s cards. Commits (the inbox
    owns its two transactions). Answers 200 with each event's outcome, 400 for a body
    that is not canonical events."""
    try:
        events = FORMAT.split(raw_body, CHANNEL)
    except MalformedPayload as error:
        return problem(error)
    try:
        delivered = deliver(
            session,
            clock,
            provider=provider,
            channel=CHANNEL,
            body=raw_body,
            headers={},
            events=events,
            policy=policy,
            respond=respond,
        )
    except Exception:
        return problem(DomainError("the events were stored but not all could be applied"), 500)
    return WebhookResponse(200, results(delivered))
