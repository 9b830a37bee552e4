"""Outbound card commands (suspend, unsuspend, close, load, unload): the adapters' side of
``ledger.ports.CardProviderCommands``.

Each command is recorded under its idempotency key before the provider is asked, and its
outcome after. Sending the same key again returns the recorded outcome once the provider
has accepted or refused it, and asks again (with the same key, which the provider also
honours) while it is pending or failed, so a retry never has a second effect. The same key
for a different command is an ``IdempotencyConflict``.

The provider is asked inside the caller's transaction: if that transaction rolls back, the
record goes with it, and a retry under the same key is again safe at the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters import keys
from adapters.models import CardCommandRecord, CommandStatus
from adapters.repositories import cards as cards_repo
from adapters.repositories import commands as commands_repo
from ledger.clock import Clock
from ledger.errors import IdempotencyConflict, InvalidAmount, UnknownRecord
from ledger.ports import CardCommand, CommandOutcome

MONEY_COMMANDS = frozenset({CardCommand.LOAD, CardCommand.UNLOAD})


@dataclass(frozen=True)
class ProviderReply:
    accepted: bool
    retryable: bool
    detail: str


class ProviderClient(Protocol):
    """What a provider module offers for outbound commands."""

    provider: str

    def execute(
        self, card_token: str, command: CardCommand, *, key: str, amount: int | None
    ) -> ProviderReply: ...


class OutboundCommands:
    """``CardProviderCommands`` over the providers' clients. Flushes, never commits."""

    def __init__(
        self, session: Session, clock: Clock, clients: Mapping[str, ProviderClient]
    ) -> None:
        self.session = session
        self.clock = clock
        self.clients = dict(clients)

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome:
        """Ask the card's provider to carry out ``command``, once per ``key`` (a key too
        long for its column is replaced by its digest form: ``adapters.keys``)."""
        key = keys.fit(key)
        reason = reason[:500] if reason is not None else None
        if command in MONEY_COMMANDS:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise InvalidAmount(f"a {command} needs an amount in pence above zero")
        elif amount is not None:
            raise InvalidAmount(f"a {command} takes no amount")
        found = cards_repo.card_token(self.session, card_id)
        if found is None:
            raise UnknownRecord(f"card {card_id} does not exist", card_id=card_id)
        provider, token = found
        record = self._record(card_id, provider, command, key, amount, reason)
        if record.status in (CommandStatus.ACCEPTED, CommandStatus.REJECTED):
            return _outcome(record)
        client = self.clients.get(provider)
        record.attempts += 1
        record.last_attempt_at = self.clock.now()
        if client is None:
            reply = ProviderReply(False, True, f"no client configured for provider {provider!r}")
        else:
            try:
                reply = client.execute(token, command, key=key, amount=amount)
            except Exception as error:  # the provider's failure is recorded, not raised
                reply = ProviderReply(False, True, f"{type(error).__name__}: {error}")
        if reply.accepted:
            record.status = CommandStatus.ACCEPTED
        else:
            record.status = CommandStatus.FAILED if reply.retryable else CommandStatus.REJECTED
        record.provider_reply = reply.detail[:2000]
        self.session.flush()
        return _outcome(record)

    def retry_unfinished(self, limit: int = 100) -> list[CommandOutcome]:
        """Send again every command still pending or failed (oldest first)."""
        out = []
        for record in commands_repo.unfinished(self.session, limit):
            out.append(
                self.send(
                    record.card_id,
                    CardCommand(record.command),
                    key=record.idempotency_key,
                    amount=record.amount,
                    reason=record.reason,
                )
            )
        return out

    def _record(
        self,
        card_id: int,
        provider: str,
        command: CardCommand,
        key: str,
        amount: int | None,
        reason: str | None,
    ) -> CardCommandRecord:
        record = commands_repo.by_key(self.session, key, lock=True)
        if record is None:
            record = CardCommandRecord(
                idempotency_key=key,
                card_id=card_id,
                provider=provider,
                command=command.value,
                amount=amount,
                reason=reason,
                status=CommandStatus.PENDING,
                attempts=0,
                created_at=self.clock.now(),
            )
            try:
                with self.session.begin_nested():
                    self.session.add(record)
            except IntegrityError:
                record = commands_repo.by_key(self.session, key, lock=True)
                assert record is not None
        if (record.card_id, record.command, record.amount) != (card_id, command.value, amount):
            raise IdempotencyConflict(
                f"command key {key!r} was already used for a different command", key=key
            )
        return record


def _outcome(record: CardCommandRecord) -> CommandOutcome:
    return CommandOutcome(
        command_id=record.id,
        accepted=record.status is CommandStatus.ACCEPTED,
        retryable=record.status in (CommandStatus.PENDING, CommandStatus.FAILED),
        detail=record.provider_reply or record.status.value,
    )
