"""``Idempotency-Key`` on POSTs: a retry gets the stored response and runs nothing again;
the same key with another body is 422; while the first still runs, 409."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import func, select

from adapters.models import InboundEvent
from portal.api.clients import register_client
from portal.repositories import api_clients
from tests.api.api_support import Api, problem_of


def _fee(card: str, event_id: str, amount: str = "1.00") -> dict[str, Any]:
    return {
        "events": [
            {
                "kind": "fee",
                "event_id": event_id,
                "occurred_at": "2026-04-20T09:30:00+00:00",
                "card": card,
                "amount": amount,
            }
        ]
    }


def _deliveries(api: Api) -> int:
    with api.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


def test_a_retry_gets_the_stored_response(api: Api) -> None:
    card = api.card("ukbank")
    key = {"Idempotency-Key": "retry-1"}
    first = api.call("POST", "/api/events", body=_fee(card.provider_card_token, "f1"), headers=key)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    api.clock.advance(seconds=20)
    again = api.call("POST", "/api/events", body=_fee(card.provider_card_token, "f1"), headers=key)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _deliveries(api) == 1


def test_the_same_key_with_a_different_body_is_422(api: Api) -> None:
    card = api.card("ukbank")
    key = {"Idempotency-Key": "retry-2"}
    api.call("POST", "/api/events", body=_fee(card.provider_card_token, "f2"), headers=key)
    other = api.call(
        "POST", "/api/events", body=_fee(card.provider_card_token, "f2", "2.00"), headers=key
    )
    problem_of(other, 422, "idempotency_key_reused")
    assert _deliveries(api) == 1


def test_the_same_key_while_the_first_runs_is_409(api: Api) -> None:
    card = api.card("ukbank")
    body = _fee(card.provider_card_token, "f3")
    # Another worker has claimed the key and not finished.
    with api.sessions() as session:
        digest = hashlib.sha256(b"POST /api/events?\n" + json.dumps(body).encode()).hexdigest()
        api_clients.claim_key(session, api.client.id, "busy", digest, api.clock.now())
        session.commit()
    headers = {"Idempotency-Key": "busy"}
    response = api.call("POST", "/api/events", body=body, headers=headers)
    problem_of(response, 409, "idempotency_key_in_flight")
    assert response.headers["Retry-After"] == "1"
    assert _deliveries(api) == 0
    # A worker that died leaves the key in flight: after a minute it may run again.
    api.clock.advance(seconds=61)
    assert api.call("POST", "/api/events", body=body, headers=headers).status_code == 200
    assert _deliveries(api) == 1


def test_refused_requests_are_stored_too(api: Api) -> None:
    key = {"Idempotency-Key": "bad-body"}
    first = api.call("POST", "/api/events", body={"events": []}, headers=key)
    problem_of(first, 422, "validation_failed")
    again = api.call("POST", "/api/events", body={"events": []}, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()


def test_keys_are_per_client(api: Api) -> None:
    card = api.card("ukbank")
    body = _fee(card.provider_card_token, "f4")
    key = {"Idempotency-Key": "shared-name"}
    assert api.call("POST", "/api/events", body=body, headers=key).status_code == 200
    with api.sessions() as session:
        other = register_client(
            session, api.clock, name="other", scopes=["events:write"], provider="ukbank"
        )
        session.commit()

    assert other.private_key_pem is not None
    now = int(api.clock.now().timestamp())
    token = jwt.encode(
        {"iss": other.client.client_id, "aud": "dpledger-api", "iat": now, "exp": now + 60,
         "scope": "events:write"},
        load_pem_private_key(other.private_key_pem.encode(), password=None),  # type: ignore[arg-type]
        algorithm="EdDSA",
    )  # fmt: skip
    response = api.call(
        "POST", "/api/events", body=_fee(card.provider_card_token, "f5"), headers=key, token=token
    )
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers


def test_replay_of_an_inbox_event_honours_the_key(api: Api) -> None:
    body = _fee("nobody", "f6")
    (result,) = api.call("POST", "/api/events", body=body).get_json()["results"]
    key = {"Idempotency-Key": "replay-once"}
    path = f"/api/inbox/{result['inbox_id']}/replay"
    first = api.call("POST", path, headers=key)
    assert first.get_json()["attempts"] == 2
    api.clock.advance(minutes=5)
    again = api.call("POST", path, headers=key)
    assert again.get_json()["attempts"] == 2  # not tried a third time
    assert again.headers["Idempotent-Replayed"] == "true"


def test_keys_expire_after_a_day(api: Api) -> None:
    card = api.card("ukbank")
    key = {"Idempotency-Key": "old"}
    api.call("POST", "/api/events", body=_fee(card.provider_card_token, "f7"), headers=key)
    api.clock.advance(hours=24, seconds=1)
    later = api.call("POST", "/api/events", body=_fee(card.provider_card_token, "f8"), headers=key)
    assert later.status_code == 200 and "Idempotent-Replayed" not in later.headers


def test_a_bad_key_is_400(api: Api) -> None:
    problem_of(
        api.call(
            "POST", "/api/events", body={"events": []}, headers={"Idempotency-Key": "x" * 256}
        ),
        400,
        "invalid_idempotency_key",
    )
