"""Provider webhooks: thin. The raw body bytes and the headers go to the adapter, which
verifies the provider's signature (or Basic Auth), stores, applies and answers; its
answer goes back as it is. No JWT here, and no CSRF (nothing here uses a browser)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from adapters import marqeta, stripe_issuing
from adapters.marqeta_gateway import handle_gateway
from adapters.webhooks import ProviderSecrets, WebhookResponse
from portal.api.blueprint import ApiBlueprint
from portal.api.policy import authorisation_policy
from portal.api.problems import register_problem_handlers
from portal.api.schemas import JitAnswerSchema, MarqetaAnswerSchema, StripeAnswerSchema
from portal.app import clock, db_session

webhooks_api = ApiBlueprint(
    "webhooks",
    __name__,
    url_prefix="/api/webhooks",
    description="Card providers' webhooks, verified by the provider's own scheme.",
)
register_problem_handlers(webhooks_api)

_RAW_BODY = {
    "required": True,
    "description": "The provider's payload, byte for byte as it was signed.",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def secrets() -> ProviderSecrets:
    found: ProviderSecrets = current_app.extensions["dpledger.provider_secrets"]
    return found


def _send(answer: WebhookResponse) -> Response:
    response = Response(json.dumps(answer.json_body), status=answer.status)
    response.content_type = "application/json"
    for name, value in answer.headers.items():
        response.headers[name] = value
    return response


def _delivery() -> tuple[bytes, dict[str, Any]]:
    return request.get_data(cache=True), dict(request.headers.items())


@webhooks_api.route("/stripe", methods=["POST"])
@webhooks_api.doc(
    summary="Stripe Issuing webhook",
    description="Every Issuing event, signed with `Stripe-Signature` (t=…,v1=…; 300 s "
    "tolerance). For `issuing_authorization.request` the answer is the real-time "
    "decision, with the `Stripe-Version` header.",
    requestBody=_RAW_BODY,
    security=[{"stripeSignature": []}],
)
@webhooks_api.response(200, StripeAnswerSchema)
@webhooks_api.alt_response(400, "BAD_REQUEST")
def stripe_webhook() -> Response:
    body, headers = _delivery()
    session = db_session()
    policy = authorisation_policy(session)
    return _send(
        stripe_issuing.handle_webhook(session, body, headers, clock(), secrets(), policy=policy)
    )


@webhooks_api.route("/marqeta", methods=["POST"])
@webhooks_api.doc(
    summary="Marqeta transactions webhook",
    description='`{"transactions": [...]}` with Basic Auth, and `X-Marqeta-Signature` '
    "(HMAC of the body) when signature secrets are configured.",
    requestBody=_RAW_BODY,
    security=[{"marqetaBasicAuth": []}],
)
@webhooks_api.response(200, MarqetaAnswerSchema)
@webhooks_api.alt_response(400, "BAD_REQUEST")
@webhooks_api.alt_response(401, "UNAUTHORIZED")
def marqeta_webhook() -> Response:
    body, headers = _delivery()
    session = db_session()
    policy = authorisation_policy(session)
    return _send(marqeta.handle_webhook(session, body, headers, clock(), secrets(), policy=policy))


@webhooks_api.route("/marqeta/gateway", methods=["POST"])
@webhooks_api.doc(
    summary="Marqeta Gateway JIT Funding",
    description="A JIT Funding request, answered synchronously: 200 with `jit_funding` to "
    "approve, 402 with `jit_funding.decline_reason` to decline (also for a method dpledger "
    "does not know). The gateway funding source's own Basic Auth "
    "(`DPLEDGER_MARQETA_GATEWAY_BASIC_AUTH`); Marqeta does not sign gateway requests.",
    requestBody=_RAW_BODY,
    security=[{"marqetaBasicAuth": []}],
)
@webhooks_api.response(200, JitAnswerSchema)
@webhooks_api.alt_response(
    402, schema=JitAnswerSchema, description="Declined (see jit_funding.decline_reason)"
)
@webhooks_api.alt_response(400, "BAD_REQUEST")
@webhooks_api.alt_response(401, "UNAUTHORIZED")
def marqeta_gateway() -> Response:
    body, headers = _delivery()
    session = db_session()
    policy = authorisation_policy(session)
    return _send(handle_gateway(session, body, headers, clock(), secrets(), policy=policy))
