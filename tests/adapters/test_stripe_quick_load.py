"""QuickLoad reads a Stripe payload as marshmallow reads it: the same result for the usual
input, and for anything else marshmallow's own result or error."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from marshmallow import ValidationError

from adapters import marqeta_gateway, stripe_issuing
from adapters.quick_load import QuickLoad
from tests.adapters.stripe_support import fixture


def _same(loader: QuickLoad, data: Any) -> None:
    try:
        expected = loader.schema.load(copy.deepcopy(data))
    except ValidationError as error:
        with pytest.raises(ValidationError) as raised:
            loader.load(copy.deepcopy(data))
        assert raised.value.messages == error.messages
        return
    assert loader.load(copy.deepcopy(data)) == expected


def _variants(base: dict[str, Any]) -> list[Any]:
    """The object as it is, and with each field (and each nested object's field) missing,
    null, or of another JSON type."""
    out: list[Any] = [base, {}, None, [], "x", {**base, "unknown_field": 1}]
    for name, value in base.items():
        for replacement in (None, True, 1, 1.5, "1", [], {}, [{}]):
            out.append({**base, name: replacement})
        out.append({k: v for k, v in base.items() if k != name})
        if isinstance(value, dict):
            for inner in _variants(value)[1:]:
                out.append({**base, name: inner})
    return out


def test_every_loader_follows_its_schema_quickly() -> None:
    for loader in (
        stripe_issuing._EVENT,
        stripe_issuing._AUTHORIZATION,
        stripe_issuing._TRANSACTION,
        stripe_issuing._CARD,
        marqeta_gateway._JIT_FUNDING,
    ):
        assert loader.plan is not None, loader.schema


@pytest.mark.parametrize(
    ("loader", "name"),
    [
        (stripe_issuing._EVENT, "event_envelope.json"),
        (stripe_issuing._AUTHORIZATION, "issuing_authorization.json"),
        (stripe_issuing._TRANSACTION, "issuing_transaction.json"),
        (stripe_issuing._CARD, "issuing_card.json"),
    ],
)
def test_stripe_objects_load_as_marshmallow_loads_them(loader: QuickLoad, name: str) -> None:
    base = fixture("stripe", name)
    # Stripe's own example takes the quick way, and gets marshmallow's answer.
    assert loader._quick(copy.deepcopy(base)) == loader.schema.load(copy.deepcopy(base))
    for data in _variants(base):
        _same(loader, data)


def test_an_authorisation_request_with_its_history_loads_as_marshmallow_loads_it() -> None:
    base = fixture("stripe", "issuing_authorization.json")
    base["pending_request"] = {"amount": 500, "currency": "gbp", "merchant_amount": 500}
    base["request_history"] = [
        {"amount": 300, "approved": True, "reason": "webhook_approved"},
        {"amount": 200, "approved": False},
        {"amount": True, "approved": True},
    ]
    history = base["request_history"]
    assert stripe_issuing._AUTHORIZATION._quick({**base, "request_history": history[:2]}) == (
        stripe_issuing._AUTHORIZATION.schema.load({**base, "request_history": history[:2]})
    )
    for data in _variants(base):
        _same(stripe_issuing._AUTHORIZATION, data)


def test_a_jit_funding_object_loads_as_marshmallow_loads_it() -> None:
    base = {"token": "jit_1", "method": "pgfs.authorization", "user_token": "u1", "amount": 12.5}
    for data in _variants(base):
        _same(marqeta_gateway._JIT_FUNDING, data)
