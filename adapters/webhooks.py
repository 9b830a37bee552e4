"""What the web layer passes in and gets back: secrets, and a framework-free response.

The portal's webhook views are thin: they hand the raw body bytes and the headers to an
adapter's ``handle_webhook`` and send back ``WebhookResponse.status``, ``.headers`` and
``.json_body`` as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import DomainError


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    json_body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSecrets:
    """Webhook credentials. Several secrets per provider may be live at once while one is
    rotated; a request signed with any of them is accepted."""

    stripe_webhook_secrets: tuple[str, ...] = ()
    # Stripe requires the API version in the real-time authorisation answer's headers.
    stripe_api_version: str = "2025-03-31.basil"
    marqeta_basic_auth: tuple[tuple[str, str], ...] = ()
    # When empty, Marqeta's X-Marqeta-Signature is not required. Marqeta signs webhook
    # notifications only: its gateway requests carry Basic Auth alone.
    marqeta_signature_secrets: tuple[str, ...] = ()
    # The program gateway funding source's own Basic Auth (configured apart from the
    # webhook's at Marqeta).
    marqeta_gateway_basic_auth: tuple[tuple[str, str], ...] = ()
    simulated_secrets: tuple[str, ...] = ()
    # Seconds a signed timestamp may be away from now (stale or in the future).
    tolerance_seconds: int = 300

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ProviderSecrets:
        """From DPLEDGER_STRIPE_WEBHOOK_SECRETS, DPLEDGER_MARQETA_BASIC_AUTH and
        DPLEDGER_MARQETA_GATEWAY_BASIC_AUTH (user:password pairs),
        DPLEDGER_MARQETA_SIGNATURE_SECRETS, DPLEDGER_SIMULATED_SECRETS; each a
        comma-separated list."""
        source = dict(os.environ) if env is None else env

        def listed(name: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in source.get(name, "").split(",") if v.strip())

        def pairs(name: str) -> tuple[tuple[str, str], ...]:
            return tuple(
                (user, password)
                for user, _, password in (item.partition(":") for item in listed(name))
            )

        return cls(
            stripe_webhook_secrets=listed("DPLEDGER_STRIPE_WEBHOOK_SECRETS"),
            stripe_api_version=source.get("DPLEDGER_STRIPE_API_VERSION", cls.stripe_api_version),
            marqeta_basic_auth=pairs("DPLEDGER_MARQETA_BASIC_AUTH"),
            marqeta_signature_secrets=listed("DPLEDGER_MARQETA_SIGNATURE_SECRETS"),
            marqeta_gateway_basic_auth=pairs("DPLEDGER_MARQETA_GATEWAY_BASIC_AUTH"),
            simulated_secrets=listed("DPLEDGER_SIMULATED_SECRETS"),
        )


def problem(error: DomainError, status: int | None = None) -> WebhookResponse:
    """An RFC 9457 problem response for a refused request."""
    code = status or error.http_status
    return WebhookResponse(
        status=code,
        json_body={
            "type": f"https://dpledger.example/problems/{error.code}",
            "title": error.title,
            "status": code,
            "detail": error.detail,
            "code": error.code,
        },
        headers={"Content-Type": "application/problem+json"},
    )
