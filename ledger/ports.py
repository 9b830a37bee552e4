"""Ports: what the ledger's callers need from the outside world, as protocols.

Monitoring asks a card provider to suspend a card or unload funds without importing the
adapters (dependencies point portal -> monitoring -> ledger and portal -> adapters ->
ledger); the composition root (the CLI, the web app) passes in the adapters'
implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class CardCommand(StrEnum):
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    CLOSE = "close"
    LOAD = "load"
    UNLOAD = "unload"


@dataclass(frozen=True)
class CommandOutcome:
    """What the provider said. ``accepted`` False with ``retryable`` True means try later."""

    command_id: int
    accepted: bool
    retryable: bool
    detail: str


class CardProviderCommands(Protocol):
    """Outbound commands to the card provider. Each is recorded with its outcome and is
    safe to retry with the same idempotency key. Implementations flush, never commit."""

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome: ...
