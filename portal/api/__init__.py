"""The JSON API under ``/api``: flask-smorest, with its OpenAPI document at
``/api/openapi.json`` and a plain page describing it at ``/api/docs``.

- ``webhooks``: provider webhooks, verified by the provider's own scheme (no JWT);
- ``events``, ``cards``, ``inbox``: for machine clients with short-lived JWTs
  (``portal.api.tokens``) and scopes, guarded where the blueprints are registered.

The whole API is exempt from CSRF (no browser sessions are used) and answers every error
with RFC 9457 problem JSON (``portal.api.problems``).
"""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from adapters.canonical import Money
from adapters.webhooks import ProviderSecrets
from portal.api.problems import PROBLEM_JSON, ProblemSchema

API_VERSION = "1"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "clientToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT the client signs with its Ed25519 key (alg EdDSA): iss = the "
        "client id, aud = the service's audience, iat and exp at most 5 minutes apart, "
        "scope = the scopes it asks for (space-separated). See docs/api.md.",
    },
    "stripeSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "Stripe-Signature",
        "description": "Stripe's t=…,v1=… HMAC-SHA256 signature of the raw body.",
    },
    "marqetaBasicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Marqeta's Basic Auth: the webhook's (with X-Marqeta-Signature too "
        "when configured), or the gateway funding source's own (no signature).",
    },
}


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's ``Api`` whose documented errors are problem JSON, and which leaves
    the app's error handlers alone (its own would turn every page's errors into JSON):
    ``portal.api.problems`` handles the API's errors."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)


def init_api(app: Flask) -> Api:
    """Mount the API on ``app``. Provider secrets come from the environment
    (``ProviderSecrets.from_env``); tests replace them in ``app.extensions``."""
    from portal.api.access import limit_body, require_client_token
    from portal.api.cards import cards_api
    from portal.api.docs import api_docs_pages
    from portal.api.events import events_api
    from portal.api.inbox import inbox_api
    from portal.api.webhooks import webhooks_api

    app.config.update(
        API_TITLE="dpledger",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The dpledger JSON API: card providers' webhooks, and for "
                "machine clients canonical events, card balances and transactions, and "
                "the inbox's parked events. Errors are RFC 9457 problem JSON with a "
                "stable `code`. See docs/api.md."
            }
        },
    )
    app.extensions["dpledger.provider_secrets"] = ProviderSecrets.from_env()
    api = ProblemApi(app)
    api.register_field(Money, "string", "decimal")
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    csrf = app.extensions["csrf"]
    for blueprint in (webhooks_api, events_api, cards_api, inbox_api):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
        guards = app.before_request_funcs.setdefault(blueprint.name, [])
        guards.append(limit_body)
        if blueprint is not webhooks_api:
            guards.append(require_client_token)
    app.register_blueprint(api_docs_pages)
    app.extensions["dpledger.api"] = api
    return api


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document as served at /api/openapi.json."""
    document: dict[str, Any] = app.extensions["dpledger.api"].spec.to_dict()
    return document
