"""Every arrival order of one card payment's events ends in the same balances."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from adapters.canonical import CanonicalEvent, EventKind
from adapters.simulated import SimulatedProvider
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.service import Ledger
from tests import factories

LOADED = 50_000

Build = Callable[[SimulatedProvider, str, str], list[CanonicalEvent]]


def _settled(sim: SimulatedProvider, token: str, pid: str) -> list[CanonicalEvent]:
    def ev(kind: EventKind, amount: int, name: str, **extra: object) -> CanonicalEvent:
        return sim.event(kind, token, amount, payment_id=pid, event_id=f"{pid}-{name}", **extra)

    return [
        ev(EventKind.AUTHORISATION_ADVICE, 1_000, "auth", merchant_name="Shop", mcc="5411"),
        ev(EventKind.INCREMENTAL_AUTHORISATION, 200, "incr"),
        ev(EventKind.CLEARING, 1_100, "clear"),
        ev(EventKind.REVERSAL, 100, "rev"),
        ev(EventKind.REFUND, 300, "refund"),
    ]


def _still_held(sim: SimulatedProvider, token: str, pid: str) -> list[CanonicalEvent]:
    def ev(kind: EventKind, amount: int, name: str) -> CanonicalEvent:
        return sim.event(kind, token, amount, payment_id=pid, event_id=f"{pid}-{name}")

    return [
        ev(EventKind.AUTHORISATION_ADVICE, 1_000, "auth"),
        ev(EventKind.INCREMENTAL_AUTHORISATION, 200, "incr"),
        ev(EventKind.REVERSAL, 300, "rev"),
        ev(EventKind.REFUND, 150, "refund"),
    ]


def _voided(sim: SimulatedProvider, token: str, pid: str) -> list[CanonicalEvent]:
    def ev(kind: EventKind, amount: int, name: str, **extra: object) -> CanonicalEvent:
        return sim.event(kind, token, amount, payment_id=pid, event_id=f"{pid}-{name}", **extra)

    return [
        ev(EventKind.AUTHORISATION_ADVICE, 1_000, "auth"),
        ev(EventKind.INCREMENTAL_AUTHORISATION, 500, "incr"),
        ev(EventKind.REVERSAL, 0, "rev", full=True),
    ]


def _declined_by_the_provider(sim: SimulatedProvider, token: str, pid: str) -> list[CanonicalEvent]:
    """We approve; the provider declines after all (our answer was late)."""

    def ev(kind: EventKind, amount: int, name: str) -> CanonicalEvent:
        return sim.event(
            kind, token, amount, payment_id=pid, event_id=f"{pid}-{name}",
            merchant_name="Shop", mcc="5411",
        )  # fmt: skip

    return [
        ev(EventKind.AUTHORISATION_REQUEST, 1_000, "request"),
        ev(EventKind.DECLINE, 1_000, "decline"),
    ]


def _approved_by_the_provider(sim: SimulatedProvider, token: str, pid: str) -> list[CanonicalEvent]:
    """We decline (a blocked category); the provider approves after all, then settles."""

    def ev(kind: EventKind, amount: int, name: str) -> CanonicalEvent:
        return sim.event(
            kind, token, amount, payment_id=pid, event_id=f"{pid}-{name}",
            merchant_name="Bookmaker", mcc="7995",
        )  # fmt: skip

    return [
        ev(EventKind.AUTHORISATION_REQUEST, 1_000, "request"),
        ev(EventKind.AUTHORISATION_ADVICE, 1_000, "advice"),
        ev(EventKind.INCREMENTAL_AUTHORISATION, 300, "incr"),
    ]


CASES: dict[str, tuple[Build, int, int]] = {
    # name: (events, expected posted, expected pending)
    "settled": (_settled, LOADED - 1_100 + 300, 0),
    "still_held": (_still_held, LOADED + 150, 900),
    "voided": (_voided, LOADED, 0),
    "declined_by_the_provider": (_declined_by_the_provider, LOADED, 0),
    "approved_by_the_provider": (_approved_by_the_provider, LOADED, 1_300),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_arrival_order_ends_the_same(session: Session, clock: FixedClock, case: str) -> None:
    build, posted, pending = CASES[case]
    sim = SimulatedProvider(session, clock)
    results = set()
    orders = 0
    template = build(sim, "tok", "pid")
    for order in itertools.permutations(range(len(template))):
        orders += 1
        _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
        events = build(sim, card.provider_card_token, f"{case}-{orders}")
        for index in order:
            response = sim.send(events[index])
            assert response.status == 200, response.json_body
            statuses = {r["status"] for r in response.json_body["results"]}
            assert statuses <= {"applied", "duplicate"}, response.json_body
        balances = Ledger(session, clock).balances(budget.id)
        results.add((balances.posted, balances.pending_debits))
        clock.advance(seconds=1)
    assert orders == len(list(itertools.permutations(template)))
    assert results == {(posted, pending)}
    assert check_balances(session).ok
