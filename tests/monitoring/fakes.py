"""Test doubles for the ports monitoring uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.ports import CardCommand, CommandOutcome


@dataclass
class Sent:
    card_id: int
    command: CardCommand
    key: str
    amount: int | None
    reason: str | None


@dataclass
class RecordingProvider:
    """Implements ``ledger.ports.CardProviderCommands``; remembers every command and
    answers once per key, like a provider that is safe to retry."""

    accept: bool = True
    sent: list[Sent] = field(default_factory=list)
    by_key: dict[str, CommandOutcome] = field(default_factory=dict)

    def send(
        self,
        card_id: int,
        command: CardCommand,
        *,
        key: str,
        amount: int | None = None,
        reason: str | None = None,
    ) -> CommandOutcome:
        self.sent.append(Sent(card_id, command, key, amount, reason))
        if key not in self.by_key:
            self.by_key[key] = CommandOutcome(
                len(self.by_key) + 1, self.accept, not self.accept, "ok"
            )
        return self.by_key[key]

    def commands(self, command: CardCommand) -> list[Sent]:
        return [s for s in self.sent if s.command is command]


@dataclass
class RecordingSender:
    fail_times: int = 0
    sends_mail: bool = True
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to_address: str, subject: str, body: str) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("mail server unavailable")
        self.sent.append((to_address, subject, body))
