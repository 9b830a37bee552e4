"""Fixtures for the JSON API's tests: the app on the test's connection, an API client with
its Ed25519 key, cards to act on, and a request helper that holds every response to the
OpenAPI document (the contract tests' check, applied to every call).

As in the portal's tests, the app shares one connection per module; each test runs in a
savepoint rolled back at its end, and the app's commits release savepoints inside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Flask
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock
from ledger.models import Card
from portal.api import openapi_document, tokens
from portal.api.clients import SCOPES, register_client
from portal.app import create_app
from portal.config import TestConfig
from tests import factories
from tests.adapters import marqeta_support, stripe_support

NOW = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
AUDIENCE = TestConfig.API_AUDIENCE
ALL_SCOPES = tuple(SCOPES)
SECRETS = ProviderSecrets(
    stripe_webhook_secrets=(stripe_support.SECRET,),
    marqeta_basic_auth=((marqeta_support.USER, marqeta_support.PASSWORD),),
    marqeta_signature_secrets=(marqeta_support.SIGNING,),
    marqeta_gateway_basic_auth=marqeta_support.SECRETS.marqeta_gateway_basic_auth,
)


@dataclass
class ApiClientKeys:
    id: int
    client_id: str
    private_key: str
    public_key: str


@dataclass
class Api:
    app: Flask
    clock: FixedClock
    sessions: sessionmaker[Session]
    client: ApiClientKeys
    document: dict[str, Any]
    checked: list[tuple[str, str, int]] = field(default_factory=list)

    def session(self) -> Session:
        return self.sessions()

    def token(self, scopes: tuple[str, ...] = ALL_SCOPES, **claims: Any) -> str:
        """A good token for the module's client, with ``claims`` changed."""
        now = int(self.clock.now().timestamp())
        values: dict[str, Any] = {
            "iss": self.client.client_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "scope": " ".join(scopes),
        }
        values.update(claims)
        values = {k: v for k, v in values.items() if v is not None}
        key = load_pem_private_key(self.client.private_key.encode(), password=None)
        return jwt.encode(values, key, algorithm="EdDSA")  # type: ignore[arg-type]

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "default",
        body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> TestResponse:
        """A request through the test client; the response is checked against the
        OpenAPI document (schema of its status, or problem JSON)."""
        sent = dict(headers or {})
        if token == "default":
            token = self.token()
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
        response = self.app.test_client().open(
            path,
            method=method,
            data=data,
            headers=sent,
            content_type=content_type if data is not None else None,
        )
        check_contract(self.document, method, path, response)
        self.checked.append((method, path, response.status_code))
        return response

    def card(self, provider: str = "simulated", loaded: int = 10_000) -> Card:
        """A person with a budget and a primary card of ``provider``, loaded (committed)."""
        with self.sessions() as session:
            _, _, card = factories.budget_with_card(session, self.clock, loaded=loaded)
            card.provider = provider
            card.provider_card_token = f"{provider}-card-{card.id}"
            session.commit()
            return card


@pytest.fixture(scope="module")
def api_module(engine: Engine) -> Iterator[Api]:
    connection = engine.connect()
    outer = connection.begin()
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    clock = FixedClock(NOW)
    app = create_app(TestConfig(), sessions=sessions, clock=clock)
    app.extensions["dpledger.provider_secrets"] = SECRETS
    with sessions() as session:
        made = register_client(
            session, clock, name="test bridge", scopes=ALL_SCOPES, provider="ukbank"
        )
        session.commit()
        assert made.private_key_pem is not None
        keys = ApiClientKeys(
            made.client.id, made.client.client_id, made.private_key_pem, made.client.public_key
        )
    try:
        yield Api(app, clock, sessions, keys, openapi_document(app))
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture()
def api(api_module: Api) -> Iterator[Api]:
    connection: Connection = api_module.sessions.kw["bind"]
    savepoint = connection.begin_nested()
    api_module.clock.current = NOW
    tokens.public_key.cache_clear()
    try:
        yield api_module
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        api_module.clock.current = NOW


# -- the contract: every response against the OpenAPI document ----------------------------


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    bare = path.split("?", 1)[0]
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
        if re.match(pattern, bare):
            found: dict[str, Any] | None = item.get(method.lower())
            return found
    return None


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_contract(document: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The response is what the document says for its status (problem JSON for errors,
    including paths the document does not have)."""
    status = response.status_code
    operation = _operation(document, method, path)
    if operation is None or (status >= 400 and str(status) not in operation["responses"]):
        assert status >= 400, f"{method} {path} answered {status}, not in the document"
        assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
        _validate(document, "#/components/schemas/Problem", response.get_json())
        return
    spec = operation["responses"].get(str(status)) or operation["responses"].get("default")
    assert spec is not None, f"{method} {path}: {status} is not documented"
    spec = _resolve(document, spec)
    content = spec.get("content")
    if not content:
        return
    (media_type, media), *_ = content.items()
    if status >= 400 and response.mimetype == "application/problem+json":
        media_type, media = (
            "application/problem+json",
            {"schema": {"$ref": "#/components/schemas/Problem"}},
        )
    assert response.mimetype == media_type, (
        f"{method} {path} {status}: {response.mimetype}, documented {media_type}"
    )
    schema = media["schema"]
    _validate(document, schema.get("$ref", ""), response.get_json(), inline=schema)


def _validate(
    document: dict[str, Any], ref: str, value: Any, inline: dict[str, Any] | None = None
) -> None:
    schema = {"$ref": ref} if ref else dict(inline or {})
    schema["components"] = document["components"]
    jsonschema.Draft202012Validator(schema).validate(value)


def problem_of(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(f"/problems/{code}")
    return body
