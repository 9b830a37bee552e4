"""The card provider's own view of each card account while the population is generated.

The generator decides, as a provider would, whether a payment can be made (a direct debit
with too little behind it bounces; a card payment is declined), so nothing it sends is
beyond the funds unless a planted case means it to be. The same figures give the closing
balances of the provider's statement file, which the ledger's must match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from adapters.canonical import CanonicalEvent


class Effect(StrEnum):
    DEBIT = "debit"  # settled money out (card, cash, bank payment)
    CREDIT = "credit"  # money in (contribution, refund)
    HOLD = "hold"  # an authorisation: reserves funds
    SETTLE = "settle"  # a clearing of a held payment
    RELEASE = "release"  # a reversal of a held payment


@dataclass(frozen=True)
class Planned:
    """One provider event to send, at ``at``, and its effect on ``account`` (a ledger
    account id: a budget, or a companion pot). ``beyond_funds`` marks a settlement the
    provider makes whatever the balance (a planted arrears case); ``top_up`` then says by
    how much it goes beyond what is available at that moment. A ``flexible`` planted
    payment is halved to what is there rather than refused."""

    at: datetime
    seq: int
    event: CanonicalEvent
    account: int
    effect: Effect
    case: int  # the case it belongs to
    plant: str | None = None
    beyond_funds: bool = False
    top_up: int = 0
    flexible: bool = False  # a planted payment that may be smaller when funds are short

    @property
    def payment_id(self) -> str | None:
        return self.event.payment_id


class Book:
    """Posted balances, holds and arrears per account, as the provider sees them."""

    def __init__(self) -> None:
        self.posted: dict[int, int] = {}
        self.held: dict[int, int] = {}
        self.arrears: dict[int, int] = {}  # budget account id -> owed
        self.parent: dict[int, int] = {}  # companion pot account -> its budget
        self.holds: dict[str, tuple[int, int]] = {}  # payment id -> (account, amount)
        self.refused: set[str] = set()  # payment ids whose first event was refused

    def open(self, account: int, parent: int | None = None) -> None:
        self.posted.setdefault(account, 0)
        if parent is not None:
            self.parent[account] = parent

    def available(self, account: int) -> int:
        return self.posted[account] - self.held.get(account, 0)

    def balance(self, budget: int, pots: list[int]) -> int:
        """What a budget and its pots hold (posted), less arrears."""
        return self.posted[budget] + sum(self.posted[p] for p in pots) - self.arrears.get(budget, 0)

    def closing(self, account: int) -> int:
        """The provider's closing balance of a card on this account (arrears negative)."""
        return self.posted[account] - self.arrears.get(account, 0)

    def credit(self, account: int, amount: int) -> None:
        """Money in; a budget's arrears are cleared first, as the ledger does."""
        owed = self.arrears.get(account, 0)
        repay = min(owed, amount)
        if repay:
            self.arrears[account] = owed - repay
        self.posted[account] += amount - repay

    def move(self, source: int, target: int, amount: int) -> bool:
        """A transfer the council decides (a pot allocation): never beyond the funds."""
        if amount <= 0 or self.available(source) < amount:
            return False
        self.posted[source] -= amount
        self.posted[target] += amount
        return True

    def accept(self, item: Planned) -> Planned | None:
        """Apply ``item`` if the provider would make it; returns it (with its amount
        settled for a beyond-the-funds case), or None when it is refused."""
        account, event, pid = item.account, item.event, item.payment_id
        if pid is not None and pid in self.refused:
            return None
        if item.effect is Effect.CREDIT:
            self.credit(account, event.amount)
            return item
        if item.effect is Effect.SETTLE or item.effect is Effect.RELEASE:
            assert pid is not None
            held_on, held = self.holds.pop(pid)
            self.held[held_on] -= held
            if item.effect is Effect.SETTLE:
                self.posted[held_on] -= event.amount
            return item
        if item.beyond_funds:
            amount = max(0, self.available(account)) + item.top_up
            event = _with_amount(event, amount)
            item = replace(item, event=event)
            self._settle_beyond(account, amount)
            return item
        short = self.available(account) < event.amount
        if short and item.flexible and self.available(account) // 2 >= 100:
            item = replace(item, event=_with_amount(event, self.available(account) // 2))
            event, short = item.event, False
        if event.amount <= 0 or short:
            if pid is not None:
                self.refused.add(pid)
            return None
        if item.effect is Effect.HOLD:
            assert pid is not None
            self.holds[pid] = (account, event.amount)
            self.held[account] = self.held.get(account, 0) + event.amount
        else:
            self.posted[account] -= event.amount
        return item

    def _settle_beyond(self, account: int, amount: int) -> None:
        covered = max(0, min(self.available(account), amount))
        self.posted[account] -= covered
        budget = self.parent.get(account, account)
        self.arrears[budget] = self.arrears.get(budget, 0) + amount - covered


def _with_amount(event: CanonicalEvent, amount: int) -> CanonicalEvent:
    return replace(event, amount=amount)
