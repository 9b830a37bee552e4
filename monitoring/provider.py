"""A stand-in for the card provider port, for use until the adapters' implementation is
wired in by the composition root: it only logs what it would have told the provider. And
what the ``provider_commands`` job needs from the adapters: a way to send again every
command the provider has not yet carried out."""

from __future__ import annotations

import logging
from typing import Protocol

from ledger.ports import CardCommand, CommandOutcome

log = logging.getLogger(__name__)


class LoggingCardProvider:
    """Implements ``ledger.ports.CardProviderCommands`` by writing to the log."""

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome:
        log.warning(
            "card provider not configured: would send %s for card %s (key %s, amount %s)",
            command.value,
            card_id,
            key,
            amount,
        )
        return CommandOutcome(
            command_id=0,
            accepted=True,
            retryable=False,
            detail="logged only: no card provider adapter is configured",
        )


class UnfinishedCommands(Protocol):
    """Commands recorded but not carried out (the provider failed or did not answer),
    sent again under their own keys: ``adapters.outbound.OutboundCommands`` is one."""

    def retry_unfinished(self, limit: int = 100) -> list[CommandOutcome]: ...
