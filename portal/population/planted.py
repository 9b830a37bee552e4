"""What each planted case does to its person's money (``plants`` says who and when).

- ``adjust_period``: a period's background spending, changed (care stops, a death, the
  companion paying for nearly everything, cash or a line pushed over its share, PAYE or
  contributions no longer paid);
- ``one_off_events``: payments on their own day (a bookmaker, a hotel, the carer at home,
  cash at night, a drained load, spending after a death or in hospital, a settlement
  beyond the funds);
- ``actions``: what officers record or decide on a given day (a death, a hospital
  admission, an emergency load).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from adapters.canonical import EventKind
from ledger.clock import Clock
from ledger.models import PlanCategory
from ledger.ports import CardProviderCommands
from monitoring.actions import EmergencySupport, OfficerActions
from monitoring.dates import period_start
from monitoring.life_events import LifeEvents
from portal.population import catalogue as cat
from portal.population.book import Planned
from portal.population.enrol import BudgetSim
from portal.population.events import Events
from portal.population.roster import Plant
from portal.population.spec import OFFICER, PopulationSpec, at

WEEKS = 4


def adjust_period(
    events: Events, sim: BudgetSim, k: int, start: date, planned: list[Planned]
) -> list[Planned]:
    plant = sim.case.plant if sim.primary else None
    if plant is None:
        return planned
    kind = plant.kind
    if kind == "unmet_need" and plant.stop is not None:
        return [p for p in planned if _money_in(p) or p.at < at(plant.stop, 0)]
    if kind == "spend_after_death" and plant.day is not None:
        return [p for p in planned if p.at < at(plant.day, 0)]
    if kind == "spend_in_hospital" and plant.day is not None and sim.companion is not None:
        # Only the person's own card is used while they are in hospital.
        token, admitted = sim.companion.token, at(plant.day, 0)
        return [p for p in planned if p.event.card_token != token or p.at < admitted]
    if kind == "missed_contribution" and plant.period is not None and k >= plant.period:
        return [p for p in planned if p.event.kind is not EventKind.CONTRIBUTION]
    if kind == "paye_missing" and plant.stop is not None:
        return [p for p in planned if not (p.event.payee == cat.HMRC and p.at >= at(plant.stop, 0))]
    if kind == "el_insurance_missing":
        insurers = set(cat.INSURERS)
        return [p for p in planned if p.event.payee not in insurers]
    if kind == "night_cash" and plant.day is not None:
        if start + timedelta(days=27) >= plant.day - timedelta(days=1):
            return [p for p in planned if not p.event.cash]
        return planned
    if plant.period != k:
        return planned
    if kind == "companion_share" and sim.companion is not None:
        return [_on_companion(events, sim, p) for p in planned]
    if kind == "cash_over_share":
        rest = [p for p in planned if not p.event.cash]
        return rest + _spread(events, sim, start, cat.CASH_MACHINE, sim.plan.cash + 6000, 3, kind)
    if kind == "over_allowance":
        line = sim.plan.lines[plant.line]
        merchant = cat.MERCHANTS[line.category][0]
        return planned + _spread(events, sim, start, merchant, line.amount * 4 // 5, 3, kind)
    if kind == "pattern_change":
        extra = _spread(
            events, sim, start + timedelta(days=3), None, plant.amount * 24 // 25, 6, kind
        )
        return planned + extra
    return planned


FLEXIBLE = frozenset(
    {
        "blocked_spend",
        "unplanned_spend",
        "household_payee",
        "night_cash",
        "spend_after_death",
        "spend_in_hospital",
        "companion_share",
    }
)


def one_off_events(spec: PopulationSpec, events: Events, sim: BudgetSim) -> list[Planned]:
    """The planted case's payments on their own days. For a kind in ``FLEXIBLE`` any
    amount will do: when funds are short a payment is smaller rather than refused, and
    the case happens if any of its payments does."""
    plant = sim.case.plant if sim.primary else None
    if plant is None or plant.day is None:
        return []
    items = _one_off_events(spec, events, sim, plant)
    if plant.kind in FLEXIBLE:
        return [replace(item, flexible=True) for item in items]
    return items


def _one_off_events(
    spec: PopulationSpec, events: Events, sim: BudgetSim, plant: Plant
) -> list[Planned]:
    assert plant.day is not None
    kind, day, rng, card = plant.kind, plant.day, sim.rng, sim.card
    if kind == "blocked_spend":
        merchant = rng.choice(cat.BLOCKED)
        return [
            events.spend(sim, card, at(day, 20, 15), merchant, rng.randrange(1000, 5000, 5), kind)
        ]
    if kind == "unplanned_spend":
        hotel = cat.MERCHANTS[PlanCategory.SHORT_BREAK][0]
        return [
            events.spend(sim, card, at(day, 15, 40), hotel, rng.randrange(6000, 14000, 5), kind)
        ]
    if kind == "household_payee":
        assert sim.case.carer is not None
        payee, amount = sim.case.carer.name, rng.randrange(8000, 25000, 500)
        return [
            events.bank(sim, at(day, 11), EventKind.FASTER_PAYMENT, payee, amount, "Thanks", kind)
        ]
    if kind == "night_cash":
        if plant.on_companion and sim.companion is not None:
            card = sim.companion
        nights = [day + timedelta(days=3 * n) for n in range(4)]
        return [
            events.spend(
                sim,
                card,
                at(night, rng.randint(1, 3), rng.randrange(60)),
                cat.CASH_MACHINE,
                2000,
                kind,
            )
            for night in nights
            if night <= spec.last_day
        ]
    if kind == "rapid_drain":
        load = sim.plan.budget - sim.plan.contribution
        return _spread(events, sim, day, None, load * 9 // 10, 4, kind, hours=(9, 20), days=1)
    if kind == "spend_after_death":
        first = day + timedelta(days=1)
        days = max(1, (spec.last_day - first).days + 1)
        return _spread(events, sim, first, None, sim.plan.budget * 3 // 10, 3, kind, days=days)
    if kind == "spend_in_hospital":
        first = day + timedelta(days=16)
        days = max(1, (spec.last_day - first).days + 1)
        return _spread(events, sim, first, None, rng.randrange(4000, 12000, 5), 2, kind, days=days)
    if kind == "arrears":
        marketplace = cat.UNCLASSIFIED[0]
        item = events.spend(sim, card, at(day, 14), marketplace, 1, kind)
        return [replace(item, beyond_funds=True, top_up=plant.amount)]
    return []


@dataclass(frozen=True)
class Action:
    """Something an officer records or decides, at ``at``, through monitoring's services."""

    at: datetime
    case: int
    kind: str
    run: Callable[[Session, Clock, CardProviderCommands], None]


def actions(sim: BudgetSim) -> list[Action]:
    plant = sim.case.plant if sim.primary else None
    if plant is None or plant.day is None:
        return []
    person_id, day, index = sim.case.person.person_id, plant.day, sim.case.index
    if plant.kind == "spend_after_death":

        def died(session: Session, clock: Clock, _provider: CardProviderCommands) -> None:
            note = "The family telephoned to say they had died."
            LifeEvents(session, clock).death(person_id, day, officer=OFFICER, note=note)

        return [Action(at(day, 16), index, plant.kind, died)]
    if plant.kind == "spend_in_hospital":

        def admitted(session: Session, clock: Clock, _provider: CardProviderCommands) -> None:
            note = "Admitted to the General Hospital after a fall (ward sister)."
            LifeEvents(session, clock).hospital_admission(
                person_id, day, officer=OFFICER, note=note
            )

        return [Action(at(day, 15), index, plant.kind, admitted)]
    if plant.kind in ("surplus", "pattern_change"):
        amount, budget = plant.amount, sim.budget

        def emergency(session: Session, clock: Clock, provider: CardProviderCommands) -> None:
            support = EmergencySupport(
                kind="interim",
                purpose="Interim support while the care package is rearranged",
                council_amount=amount,
                person_amount=0,
                duration_days=28,
                review_how="A telephone review with the person and their family",
                review_on=day + timedelta(days=28),
                outcome_aimed_at="Care continues without a gap",
                next_steps="Agree a new package with the agency",
            )
            OfficerActions(session, clock, provider).emergency_load(
                budget,
                support,
                request_key=f"population:{index}",
                officer=OFFICER,
                reason="Care package broke down",
            )

        return [Action(at(day, 11), index, plant.kind, emergency)]
    return []


def _money_in(item: Planned) -> bool:
    return item.event.kind in (EventKind.CONTRIBUTION, EventKind.REFUND)


def _on_companion(events: Events, sim: BudgetSim, item: Planned) -> Planned:
    event = item.event
    if event.kind is not EventKind.CLEARING or event.payment_id or sim.companion is None:
        return item
    merchant = cat.Merchant(event.merchant_name or "", event.mcc or "", 0, 0)
    moved = events.spend(sim, sim.companion, item.at, merchant, event.amount, "companion_share")
    return replace(moved, flexible=True)


def _spread(
    events: Events,
    sim: BudgetSim,
    first: date,
    merchant: cat.Merchant | None,
    total: int,
    count: int,
    plant: str,
    *,
    hours: tuple[int, int] = (10, 18),
    days: int = 10,
) -> list[Planned]:
    """``total`` paid in ``count`` card payments over ``days`` from ``first``, at
    ``merchant`` (by default, merchants no plan line covers)."""
    rng, out = sim.rng, []
    for n in range(count):
        part = total // count if n < count - 1 else total - (count - 1) * (total // count)
        shop = merchant or cat.UNCLASSIFIED[n % len(cat.UNCLASSIFIED)]
        when = at(
            first + timedelta(days=rng.randrange(days)), rng.randint(*hours), rng.randrange(60)
        )
        out.append(events.spend(sim, sim.card, when, shop, part, plant))
    return out


def period_of(sim: BudgetSim, k: int) -> date:
    return period_start(sim.plan.starts_on, WEEKS, k)
