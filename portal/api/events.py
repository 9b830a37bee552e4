"""``POST /api/events``: canonical events from API clients, through the inbox."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.wrappers import Response

from adapters import api_events
from portal.api.access import current_client, scoped
from portal.api.blueprint import ApiBlueprint
from portal.api.clients import check_may_post_events
from portal.api.idempotency import idempotent
from portal.api.policy import authorisation_policy
from portal.api.problems import PROBLEM_JSON, register_problem_handlers
from portal.api.schemas import EventsInSchema, EventsOutSchema
from portal.app import clock, db_session

events_api = ApiBlueprint(
    "events",
    __name__,
    url_prefix="/api/events",
    description="Canonical events posted by API clients (a UK provider's bridge, say).",
)
register_problem_handlers(events_api)


@events_api.route("", methods=["POST"])
@scoped(events_api, "events:write")
@idempotent(events_api)
@events_api.arguments(EventsInSchema)
@events_api.response(200, EventsOutSchema)
@events_api.alt_response(401, "UNAUTHORIZED")
@events_api.alt_response(403, "FORBIDDEN")
@events_api.alt_response(415, "UNSUPPORTED_MEDIA_TYPE")
@events_api.doc(
    summary="Post canonical events",
    description="Each event is stored in the inbox (keyed `{kind}:{event_id}` for the "
    "client's provider) and applied once; the answer gives each event's outcome, and the "
    "decision for an `authorisation_request`. Amounts are decimal pounds as strings. The "
    "whole body is checked first: one invalid event refuses the request (422) and "
    "changes nothing. Events about the cards of a provider whose own webhooks are signed "
    "(stripe, marqeta) are refused (403 `unsigned_events_refused`) unless the client "
    "also holds `events:unsigned`.",
)
def post_events(_events: dict[str, Any]) -> Response:
    client = current_client()
    check_may_post_events(client.provider, client.scopes)
    session = db_session()
    answer = api_events.handle_events(
        session,
        request.get_data(cache=True),
        clock(),
        provider=client.provider,
        policy=authorisation_policy(session),
    )
    mimetype = "application/json" if answer.status < 400 else PROBLEM_JSON
    return Response(json.dumps(answer.json_body), status=answer.status, mimetype=mimetype)
