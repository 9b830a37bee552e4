"""A stand-in for the card provider port, for use until the adapters' implementation is
wired in by the composition root: it only logs what it would have told the provider."""

from __future__ import annotations

import logging

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
