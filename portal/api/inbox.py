"""``GET /api/inbox/parked`` and ``POST /api/inbox/{id}/replay``."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from sqlalchemy.orm import Session, sessionmaker

from adapters import inbox
from adapters.models import InboundEvent, InboxStatus
from adapters.repositories import inbox as inbox_repo
from ledger.errors import UnknownRecord
from portal.api.access import current_client, scoped
from portal.api.blueprint import ApiBlueprint
from portal.api.idempotency import idempotent
from portal.api.problems import register_problem_handlers
from portal.api.schemas import InboxEventSchema, InboxPageSchema, InboxQuerySchema
from portal.app import clock, db_session

inbox_api = ApiBlueprint(
    "inbox",
    __name__,
    url_prefix="/api/inbox",
    description="Provider events that could not be applied, and replaying them.",
)
register_problem_handlers(inbox_api)


def _event(event: InboundEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "provider": event.provider,
        "provider_event_id": event.provider_event_id,
        "event_type": event.event_type,
        "status": event.status,
        "reason": event.reason,
        "attempts": event.attempts,
        "received_at": event.received_at,
        "last_attempt_at": event.last_attempt_at,
        "applied_at": event.applied_at,
    }


@inbox_api.route("/parked", methods=["GET"])
@scoped(inbox_api, "inbox:read")
@inbox_api.arguments(InboxQuerySchema, location="query", as_kwargs=True)
@inbox_api.response(200, InboxPageSchema)
@inbox_api.alt_response(401, "UNAUTHORIZED")
@inbox_api.alt_response(403, "FORBIDDEN")
@inbox_api.doc(
    summary="Parked events",
    description="The client's provider's events that could not be applied, newest first, "
    "with why. Pass the last id of a page as `before` for the next; `next` is that URL, "
    "null on the last.",
)
def parked_events(before: int | None, limit: int, provider: str | None) -> dict[str, Any]:
    own = current_client().provider
    found = (
        inbox_repo.list_events(
            db_session(),
            statuses=[InboxStatus.PARKED],
            provider=own,
            before_id=before,
            limit=limit + 1,
        )
        if provider in (None, own)
        else []
    )
    page, more = found[:limit], len(found) > limit
    query: dict[str, Any] = {"before": page[-1].id, "limit": limit} if more else {}
    if more and provider:
        query["provider"] = provider
    return {
        "events": [_event(event) for event in page],
        "next": url_for("inbox.parked_events", **query) if more else None,
    }


@inbox_api.route("/<int:event_id>/replay", methods=["POST"])
@scoped(inbox_api, "inbox:replay")
@idempotent(inbox_api)
@inbox_api.response(200, InboxEventSchema)
@inbox_api.alt_response(401, "UNAUTHORIZED")
@inbox_api.alt_response(403, "FORBIDDEN")
@inbox_api.alt_response(404, "NOT_FOUND")
@inbox_api.doc(
    summary="Replay an inbox event",
    description="Apply the event again, in its own transaction (after the cause of its "
    "parking was fixed). An event already applied, ignored or found a duplicate is left "
    "as it is; a real-time authorisation request is never decided late. The answer is "
    "the event afterwards.",
)
def replay_event(event_id: int) -> dict[str, Any]:
    session = db_session()
    found = inbox_repo.get_event(session, event_id)
    if found is None or found.provider != current_client().provider:
        raise UnknownRecord(f"no inbox event {event_id}")
    # The replay runs in transactions of its own; this request's must not hold locks.
    session.commit()
    sessions: sessionmaker[Session] = current_app.extensions["dpledger.sessions"]
    inbox.replay(sessions, clock(), event_ids=[event_id])
    event = inbox_repo.get_event(session, event_id)
    assert event is not None
    return _event(event)
