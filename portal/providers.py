"""The composition root for card-provider commands: which provider clients this deployment
talks to, wired once into the adapters' ``OutboundCommands`` (``ledger.ports``'s
``CardProviderCommands``), for the web app's officer actions and for the command line and
scheduler (``monitoring.commands.use_card_provider``).

- ``simulated``: the demo and tests' provider (``adapters.simulated``); on in development
  and test, off in production unless ``DPLEDGER_SIMULATED_PROVIDER=1``.
- ``stripe``: when ``DPLEDGER_STRIPE_API_KEY`` is set (a restricted key that may update
  Issuing cards).
- ``marqeta``: when ``DPLEDGER_MARQETA_API_URL``, ``DPLEDGER_MARQETA_APPLICATION_TOKEN`` and
  ``DPLEDGER_MARQETA_ACCESS_TOKEN`` are all set.

A card whose provider has no client still gets its command recorded, as failed and
retryable ("no client configured"), so nothing an officer does is silently lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from adapters.outbound import OutboundCommands, ProviderClient
from ledger.clock import Clock
from ledger.ports import CardProviderCommands

ProviderFactory = Callable[[Session], CardProviderCommands]
_EXTENSION = "dpledger.card_provider"


@dataclass(frozen=True)
class ProviderSettings:
    """Which providers' clients to build, from the environment (secrets never logged)."""

    simulated: bool = False
    stripe_api_key: str | None = None
    marqeta_api_url: str | None = None
    marqeta_application_token: str | None = None
    marqeta_access_token: str | None = None

    @classmethod
    def from_env(cls, env_name: str, env: Mapping[str, str] | None = None) -> ProviderSettings:
        source = os.environ if env is None else env

        def value(name: str) -> str | None:
            return (source.get(name) or "").strip() or None

        simulated_flag = value("DPLEDGER_SIMULATED_PROVIDER")
        simulated = (
            simulated_flag == "1" if simulated_flag is not None else env_name != "production"
        )
        return cls(
            simulated=simulated,
            stripe_api_key=value("DPLEDGER_STRIPE_API_KEY"),
            marqeta_api_url=value("DPLEDGER_MARQETA_API_URL"),
            marqeta_application_token=value("DPLEDGER_MARQETA_APPLICATION_TOKEN"),
            marqeta_access_token=value("DPLEDGER_MARQETA_ACCESS_TOKEN"),
        )

    @property
    def providers(self) -> list[str]:
        """The providers with a client, for start-up messages."""
        named = [
            ("simulated", self.simulated),
            ("stripe", self.stripe_api_key is not None),
            ("marqeta", self.marqeta_configured),
        ]
        return [name for name, on in named if on]

    @property
    def marqeta_configured(self) -> bool:
        return None not in (
            self.marqeta_api_url,
            self.marqeta_application_token,
            self.marqeta_access_token,
        )


def provider_factory(
    settings: ProviderSettings, clock: Clock
) -> Callable[[Session], OutboundCommands]:
    """``session -> CardProviderCommands``: the adapters' outbound commands over the
    configured clients. Stripe's and Marqeta's clients are built once and shared; the
    simulated provider keeps no state worth sharing, so it is made per session."""
    shared: dict[str, ProviderClient] = {}
    if settings.stripe_api_key is not None:
        import stripe

        from adapters.stripe_issuing import StripeCommands

        shared["stripe"] = StripeCommands(stripe.StripeClient(settings.stripe_api_key))
    if settings.marqeta_configured:
        from adapters.marqeta import MarqetaCommands, urllib_transport

        assert settings.marqeta_api_url and settings.marqeta_application_token
        assert settings.marqeta_access_token
        shared["marqeta"] = MarqetaCommands(
            urllib_transport(
                settings.marqeta_api_url,
                settings.marqeta_application_token,
                settings.marqeta_access_token,
            )
        )

    def for_session(session: Session) -> OutboundCommands:
        clients = dict(shared)
        if settings.simulated:
            from adapters.simulated import SimulatedProvider

            clients["simulated"] = SimulatedProvider(session, clock)
        return OutboundCommands(session, clock, clients)

    return for_session


def init_card_provider(app: Flask, clock: Clock) -> None:
    """Give the web app its card-provider commands (``card_provider``), from the
    environment for the app's ``ENV_NAME``."""
    settings = ProviderSettings.from_env(app.config["ENV_NAME"])
    app.extensions[_EXTENSION] = provider_factory(settings, clock)


def card_provider(session: Session) -> CardProviderCommands:
    """The request's card-provider commands, inside the request's transaction."""
    factory: ProviderFactory = current_app.extensions[_EXTENSION]
    return factory(session)
