"""Building Marqeta deliveries from the public fixture, as Marqeta sends them."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from adapters.signatures import sign_body_hmac
from adapters.webhooks import ProviderSecrets
from ledger.clock import FixedClock
from tests.adapters.stripe_support import fixture

USER, PASSWORD = "marqeta-hook", "s3cret-pass"
# The program gateway funding source has Basic Auth of its own (and no signature).
GATEWAY_USER, GATEWAY_PASSWORD = "marqeta-gateway", "g4teway-Pass-2026!"
SIGNING = "marqeta-signing-secret"
SECRETS = ProviderSecrets(
    marqeta_basic_auth=((USER, PASSWORD),),
    marqeta_signature_secrets=(SIGNING,),
    marqeta_gateway_basic_auth=((GATEWAY_USER, GATEWAY_PASSWORD),),
)


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class MarqetaSender:
    def __init__(self, clock: FixedClock, card_token: str) -> None:
        self.clock = clock
        self.card_token = card_token

    def transaction(
        self,
        kind: str,
        token: str,
        amount: str | int,
        *,
        preceding: str | None = None,
        state: str = "PENDING",
        currency: str = "GBP",
        mcc: str = "6411",
    ) -> dict[str, Any]:
        tx: dict[str, Any] = copy.deepcopy(
            fixture("marqeta", "webhook_transactions_authorization.json")["transactions"][0]
        )
        tx.update(
            type=kind,
            token=token,
            state=state,
            card_token=self.card_token,
            currency_code=currency,
            created_time=self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            user_transaction_time=self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        tx["card_acceptor"]["mcc"] = mcc
        if preceding:
            tx["preceding_related_transaction_token"] = preceding
        return self._with_amount(tx, amount)

    @staticmethod
    def _with_amount(tx: dict[str, Any], amount: str | int) -> dict[str, Any]:
        tx["amount"] = f"__AMOUNT__{amount}__"
        return tx

    @staticmethod
    def body(*transactions: dict[str, Any]) -> bytes:
        # Marqeta's amounts are JSON numbers: write them unquoted, exactly as given.
        text = json.dumps({"transactions": list(transactions)})
        return _unquote_amounts(text).encode()

    @staticmethod
    def headers(body: bytes, *, auth: str | None = None, secret: str = SIGNING) -> dict[str, str]:
        return {
            "Authorization": auth or basic(),
            "X-Marqeta-Signature": sign_body_hmac(body, secret),
            "Content-Type": "application/json",
        }

    @staticmethod
    def gateway_headers(*, auth: str | None = None) -> dict[str, str]:
        """As Marqeta sends a gateway request: Basic Auth, no signature."""
        return {
            "Authorization": auth or basic(GATEWAY_USER, GATEWAY_PASSWORD),
            "Content-Type": "application/json",
        }

    def jit(
        self,
        token: str,
        amount: str,
        *,
        method: str = "pgfs.authorization",
        preceding: str | None = None,
        mcc: str = "5411",
        currency: str = "GBP",
    ) -> bytes:
        tx = self.transaction(
            "authorization", token, amount, preceding=preceding, mcc=mcc, currency=currency
        )
        tx["gpa_order"]["jit_funding"] = {
            "token": f"jit_{token}",
            "method": method,
            "user_token": tx["user_token"],
            "acting_user_token": tx["user_token"],
            "amount": f"__AMOUNT__{amount}__",
        }
        return _unquote_amounts(json.dumps(tx)).encode()


def _unquote_amounts(text: str) -> str:
    import re

    return re.sub(r'"__AMOUNT__([^_"]*)__"', r"\1", text)
