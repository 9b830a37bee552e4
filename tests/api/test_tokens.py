"""Machine clients' JWTs: EdDSA only, per-client keys, iss, aud, iat, exp (at most five
minutes, 30 s skew), scopes. Each refusal is problem JSON with a stable code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from portal.api.clients import register_client, revoke_client
from tests.api.api_support import AUDIENCE, Api, problem_of

BALANCE = "/api/cards/{}/balance"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], key: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    if not key:
        return f"{head}.{body}."
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def _claims(api: Api, **changes: Any) -> dict[str, Any]:
    now = int(api.clock.now().timestamp())
    claims = {
        "iss": api.client.client_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": "cards:read",
    }
    claims.update(changes)
    return claims


def test_a_good_token_reads_a_balance(api: Api) -> None:
    card = api.card("ukbank")
    response = api.call("GET", BALANCE.format(card.id), token=api.token(("cards:read",)))
    assert response.status_code == 200
    assert response.get_json()["available"] == "100.00"


def test_no_token_is_401_with_a_bearer_challenge(api: Api) -> None:
    card = api.card("ukbank")
    response = api.call("GET", BALANCE.format(card.id), token=None)
    problem_of(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    basic = api.call(
        "GET", BALANCE.format(card.id), token=None, headers={"Authorization": "Basic eDp5"}
    )
    problem_of(basic, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("expired", "expired"),
        ("future_iat", "future"),
        ("too_long", "at most 5 minutes"),
        ("wrong_aud", "audience"),
        ("unknown_iss", "not an active API client"),
        ("missing_exp", "'exp'"),
        ("missing_iat", "'iat'"),
        ("garbage", "not a JWT"),
    ],
)
def test_refused_tokens(api: Api, case: str, why: str) -> None:
    card = api.card("ukbank")
    now = int(api.clock.now().timestamp())
    token = {
        "expired": lambda: api.token(iat=now - 331, exp=now - 31),
        "future_iat": lambda: api.token(iat=now + 31, exp=now + 200),
        "too_long": lambda: api.token(exp=now + 301),
        "wrong_aud": lambda: api.token(aud="someone-else"),
        "unknown_iss": lambda: api.token(iss="dpc_nobody"),
        "missing_exp": lambda: api.token(exp=None),
        "missing_iat": lambda: api.token(iat=None),
        "garbage": lambda: "not.a.token",
    }[case]()
    response = api.call("GET", BALANCE.format(card.id), token=token)
    body = problem_of(response, 401, "invalid_token")
    assert why in body["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_clock_skew_of_up_to_30_seconds_is_allowed(api: Api) -> None:
    card = api.card("ukbank")
    now = int(api.clock.now().timestamp())
    for token in (
        api.token(iat=now + 30, exp=now + 300),  # issued by a clock 30 s ahead
        api.token(iat=now - 329, exp=now - 29),  # expired 29 s ago by ours
    ):
        assert api.call("GET", BALANCE.format(card.id), token=token).status_code == 200


def test_the_wrong_issuer_for_the_key_is_refused(api: Api) -> None:
    """A token naming another client as iss, signed with this client's key."""
    card = api.card("ukbank")
    with api.sessions() as session:
        other = register_client(
            session, api.clock, name="other", scopes=["cards:read"], provider="simulated"
        )
        session.commit()
        other_id = other.client.client_id
    response = api.call("GET", BALANCE.format(card.id), token=api.token(iss=other_id))
    body = problem_of(response, 401, "invalid_token")
    assert "signature" in body["detail"]


def test_a_key_that_is_not_the_clients_is_refused(api: Api) -> None:
    card = api.card("ukbank")
    stranger = Ed25519PrivateKey.generate()
    token = jwt.encode(_claims(api), stranger, algorithm="EdDSA")
    problem_of(api.call("GET", BALANCE.format(card.id), token=token), 401, "invalid_token")


def test_alg_none_is_refused(api: Api) -> None:
    card = api.card("ukbank")
    token = _unsigned({"alg": "none", "typ": "JWT"}, _claims(api))
    body = problem_of(api.call("GET", BALANCE.format(card.id), token=token), 401, "invalid_token")
    assert "EdDSA" in body["detail"]


def test_hs256_signed_with_the_public_key_is_refused(api: Api) -> None:
    """The algorithm-confusion attack: the public key is no secret."""
    card = api.card("ukbank")
    token = _unsigned(
        {"alg": "HS256", "typ": "JWT"}, _claims(api), key=api.client.public_key.encode()
    )
    body = problem_of(api.call("GET", BALANCE.format(card.id), token=token), 401, "invalid_token")
    assert "EdDSA" in body["detail"]


def test_a_missing_scope_is_403(api: Api) -> None:
    card = api.card("ukbank")
    response = api.call("GET", BALANCE.format(card.id), token=api.token(("events:write",)))
    problem_of(response, 403, "insufficient_scope")
    assert 'scope="cards:read"' in response.headers["WWW-Authenticate"]
    no_scope = api.call("GET", BALANCE.format(card.id), token=api.token(scope=None))
    problem_of(no_scope, 403, "insufficient_scope")


def test_a_token_gets_no_more_than_its_clients_scopes(api: Api) -> None:
    card = api.card("ukbank")
    private_pem = _register(api, "reader", ["inbox:read"])
    key = load_pem_private_key(private_pem.encode(), password=None)
    with api.sessions() as session:
        from portal.repositories.api_clients import by_name

        reader = by_name(session, "reader")
        assert reader is not None
        claims = _claims(api, iss=reader.client_id, scope="cards:read inbox:read")
    token = jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]
    problem_of(api.call("GET", BALANCE.format(card.id), token=token), 403, "insufficient_scope")
    assert api.call("GET", "/api/inbox/parked", token=token).status_code == 200


def test_a_revoked_client_is_refused_at_once(api: Api) -> None:
    card = api.card("ukbank")
    token = api.token()
    assert api.call("GET", BALANCE.format(card.id), token=token).status_code == 200
    with api.sessions() as session:
        revoke_client(session, api.clock, "test bridge")
        session.commit()
    problem_of(api.call("GET", BALANCE.format(card.id), token=token), 401, "invalid_token")


def test_webhooks_take_no_token(api: Api) -> None:
    """A provider's delivery is judged by its signature, whatever Authorization says."""
    response = api.call("POST", "/api/webhooks/stripe", token=api.token(), body={"id": "x"})
    body = problem_of(response, 400, "signature_invalid")
    assert "signature" in body["detail"]


def _register(api: Api, name: str, scopes: list[str]) -> str:
    with api.sessions() as session:
        made = register_client(session, api.clock, name=name, scopes=scopes, provider="simulated")
        session.commit()
    assert made.private_key_pem is not None
    return made.private_key_pem
