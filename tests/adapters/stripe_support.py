"""Building Stripe Issuing webhook deliveries from the public fixtures, as Stripe sends them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.signatures import sign_timestamped
from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
SECRET = "whsec_test_secret"
SECRETS = ProviderSecrets(stripe_webhook_secrets=(SECRET,))


def fixture(provider: str, name: str) -> dict[str, Any]:
    path = FIXTURES / provider / name
    if not path.exists():
        pytest.skip(f"the public provider fixtures are not present at {path} (../shared is absent)")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


class StripeSender:
    """Wraps Stripe objects in event envelopes, signs them, and numbers the events."""

    def __init__(self, clock: FixedClock, card_token: str) -> None:
        self.clock = clock
        self.card_token = card_token
        self.n = 0

    def envelope(self, event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
        self.n += 1
        envelope = copy.deepcopy(fixture("stripe", "event_envelope.json"))
        envelope["id"] = event_id or f"evt_test_{self.n}_{event_type}"
        envelope["type"] = event_type
        envelope["created"] = int(self.clock.now().timestamp())
        envelope["data"] = {"object": obj}
        return json.dumps(envelope).encode()

    def headers(self, body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
        t = int(self.clock.now().timestamp()) if at is None else at
        return {
            "Stripe-Signature": sign_timestamped(body, secret, t),
            "Content-Type": "application/json",
        }

    def authorization(
        self,
        auth_id: str,
        *,
        amount: int = 0,
        pending: int | None = None,
        approved: bool = True,
        status: str = "pending",
        history: list[tuple[int, bool]] | None = None,
        currency: str = "gbp",
        mcc: str = "4121",
    ) -> dict[str, Any]:
        obj = copy.deepcopy(fixture("stripe", "issuing_authorization.json"))
        obj["id"] = auth_id
        obj["amount"] = amount
        obj["approved"] = approved
        obj["status"] = status
        obj["currency"] = currency
        obj["card"]["id"] = self.card_token
        obj["card"]["currency"] = currency
        obj["merchant_data"]["category_code"] = mcc
        obj["created"] = int(self.clock.now().timestamp())
        if pending is None:
            obj["pending_request"] = None
        else:
            obj["pending_request"]["amount"] = pending
            obj["pending_request"]["currency"] = currency
        obj["request_history"] = [
            {
                "amount": a,
                "approved": ok,
                "reason": "webhook_approved" if ok else "webhook_declined",
            }
            for a, ok in (history or [])
        ]
        return obj

    def transaction(
        self,
        tx_id: str,
        auth_id: str | None,
        amount: int,
        kind: str = "capture",
        currency: str = "gbp",
    ) -> dict[str, Any]:
        obj = copy.deepcopy(fixture("stripe", "issuing_transaction.json"))
        obj["id"] = tx_id
        obj["authorization"] = auth_id
        obj["amount"] = amount
        obj["merchant_amount"] = amount
        obj["type"] = kind
        obj["currency"] = currency
        obj["card"] = self.card_token
        obj["created"] = int(self.clock.now().timestamp())
        return obj


Post = Callable[[bytes], Any]
