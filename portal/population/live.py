"""The last day's card payments, as they happen: each asked for in real time through the
simulated provider's signed webhook (stored in the inbox, decided by the authorisation
policy, a hold placed), then cleared, reversed, or left waiting to settle. A few people
also try a bookmaker, which the council's blocked categories decline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from adapters.canonical import EventKind
from adapters.simulated import SimulatedProvider
from ledger.clock import FixedClock
from portal.population import catalogue as cat
from portal.population.book import Book, Effect, Planned
from portal.population.spec import seeded

Step = tuple[datetime, int, Callable[[SimulatedProvider], None]]


def diverted(item: Planned) -> bool:
    """Payments of every other unplanted person, on their own card, go through live."""
    event = item.event
    return (
        item.case % 2 == 1
        and item.plant is None
        and event.kind is EventKind.CLEARING
        and event.payment_id is None
        and event.card_token.endswith("_p")
    )


def send_live(
    factory: sessionmaker[Session],
    clock: FixedClock,
    book: Book,
    items: list[Planned],
    seed: int,
    planted: set[int],
) -> dict[str, int]:
    """Send ``items`` in time order; returns how many were approved, declined, cleared,
    reversed and left pending."""
    rng = seeded(seed, "live")
    counts = dict.fromkeys(("approved", "declined", "cleared", "reversed", "bets", "pending"), 0)
    steps: list[Step] = []
    for item in sorted(items, key=lambda p: (p.at, p.seq)):
        if item.case in planted:
            continue
        steps += _payment_steps(book, item, rng.random(), counts)
        if item.case % 10 == 3 and rng.random() < 0.3:
            steps.append(_bookmaker(item, counts))
    with factory() as session:
        provider = SimulatedProvider(session, clock)
        for when, _seq, step in sorted(steps, key=lambda s: (s[0], s[1])):
            clock.current = when
            step(provider)
    counts["pending"] = counts["approved"] - counts["cleared"] - counts["reversed"] - counts["bets"]
    return counts


def _payment_steps(book: Book, item: Planned, chance: float, counts: dict[str, int]) -> list[Step]:
    event, pid = item.event, f"{item.event.event_id}-live"
    held = replace(item, event=replace(event, payment_id=pid), effect=Effect.HOLD)

    def ask(provider: SimulatedProvider) -> None:
        _, answer = provider.purchase(
            event.card_token,
            event.amount,
            merchant=event.merchant_name or "",
            mcc=event.mcc or "",
            payment_id=pid,
        )
        if answer.get("approved"):
            counts["approved"] += 1
            book.accept(held)
        else:
            counts["declined"] += 1
            book.refused.add(pid)

    def follow(
        kind: EventKind, effect: Effect, outcome: str
    ) -> Callable[[SimulatedProvider], None]:
        def step(provider: SimulatedProvider) -> None:
            if pid in book.refused:
                return
            extra = {"full": True} if kind is EventKind.REVERSAL else {}
            amount = 0 if kind is EventKind.REVERSAL else event.amount
            provider.follow_up(
                kind, event.card_token, pid, amount, event_id=f"{pid}-{outcome}", **extra
            )
            book.accept(replace(held, effect=effect))
            counts[outcome] += 1

        return step

    steps: list[Step] = [(item.at, item.seq, ask)]
    if chance < 0.6:
        later = follow(EventKind.CLEARING, Effect.SETTLE, "cleared")
        steps.append((item.at + timedelta(minutes=25), item.seq, later))
    elif chance < 0.7:
        later = follow(EventKind.REVERSAL, Effect.RELEASE, "reversed")
        steps.append((item.at + timedelta(minutes=10), item.seq, later))
    return steps


def _bookmaker(item: Planned, counts: dict[str, int]) -> Step:
    bookmaker = cat.BLOCKED[0]

    def ask(provider: SimulatedProvider) -> None:
        _, answer = provider.purchase(
            item.event.card_token,
            2000,
            merchant=bookmaker.name,
            mcc=bookmaker.mcc,
            payment_id=f"{item.event.event_id}-bet",
        )
        counts["approved" if answer.get("approved") else "declined"] += 1
        counts["bets"] += 1 if answer.get("approved") else 0

    return (item.at + timedelta(minutes=5), item.seq, ask)
