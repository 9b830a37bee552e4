"""Who an API request acts for: the guard attached where the client blueprints are
registered, and the ``scoped`` decorator that says which scope each endpoint needs.

The guard fails closed: an endpoint that declares no scope is refused to every token.
Provider webhooks are not behind it (the provider's own signature or Basic Auth is
checked by the adapter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from portal.api import tokens
from portal.api.clients import client_key
from portal.app import clock, db_session

F = TypeVar("F", bound=Callable[..., Any])

SECURITY_SCHEME = "clientToken"
# Bodies of API requests are small; a provider delivery or a batch of events fits easily.
MAX_BODY_BYTES = 1024 * 1024


def scoped(blueprint: Any, scope: str) -> Callable[[F], F]:
    """Mark a view as needing ``scope`` (checked by the guard), and document it."""

    def decorator(view: F) -> F:
        documented: F = blueprint.doc(security=[{SECURITY_SCHEME: [scope]}])(view)
        documented.required_scope = scope  # type: ignore[attr-defined]
        return documented

    return decorator


def limit_body() -> None:
    """Before every API request: refuse bodies over ``MAX_BODY_BYTES`` (413)."""
    request.max_content_length = MAX_BODY_BYTES


def require_client_token() -> None:
    """Before every client API request: a valid token from an active client, with the
    scope the endpoint needs; and a JSON body when there is one (415 otherwise)."""
    view = current_app.view_functions.get(request.endpoint or "")
    needed: str | None = getattr(view, "required_scope", None)
    token = tokens.bearer_token(request.headers.get("Authorization"))
    session = db_session()
    principal = tokens.verify(
        token,
        audience=current_app.config["API_AUDIENCE"],
        now=clock().now(),
        find_client=lambda client_id: client_key(session, client_id),
    )
    tokens.require_scope(principal, needed or "(none declared: refused)")
    g.api_client = principal
    if (
        request.method in ("POST", "PUT", "PATCH")
        and request.content_length
        and not request.is_json
    ):
        raise UnsupportedMediaType("send the body as application/json")


def current_client() -> tokens.Principal:
    principal: tokens.Principal = g.api_client
    return principal
