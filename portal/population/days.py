"""Simulated days, a week of them in a transaction, through the real services and adapters:

1. what officers record that day (a death, a hospital admission, an emergency load),
   through monitoring's services;
2. the council's 4-weekly loads, made with ``Ledger.load`` exactly as the scheduled-loads
   job makes them (its source, key, amount and reference; net of the contribution; none
   after a death), so the job recognises them as made when it next runs and catches up;
   each period's spending planned as its load arrives; companion pots topped up
   (``Ledger.allocate_to_pot``);
3. what the card provider reports for the day (settlements, cash, bank payments,
   contributions, refunds, authorisations and reversals) as canonical events applied by
   ``adapters.apply.EventApplier``, as the statement import and the webhooks apply them.

Postings are kept in memory and written together (``ledger.postings.deferred``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from adapters.apply import EventApplier
from adapters.outbound import OutboundCommands
from adapters.repositories.cards import CardRef, card_ref
from adapters.simulated import SimulatedProvider
from ledger import postings
from ledger.clock import FixedClock
from ledger.errors import DomainError
from ledger.service import Ledger
from monitoring.dates import period_index, working_day_on_or_before
from monitoring.scheduled_loads import SOURCE as SCHEDULER
from monitoring.scheduled_loads import due_dates
from portal.population import planted
from portal.population.book import Book, Planned
from portal.population.enrol import BudgetSim
from portal.population.events import Events
from portal.population.planted import Action
from portal.population.schedule import period_plan
from portal.population.spec import LONDON, PROVIDER, PopulationSpec, at

WEEKS = 4
LIVE_AT_MOST = 200  # payments sent through the webhook on the last day


class Simulation:
    def __init__(
        self,
        spec: PopulationSpec,
        factory: sessionmaker[Session],
        clock: FixedClock,
        sims: list[BudgetSim],
    ) -> None:
        self.spec, self.factory, self.clock, self.sims = spec, factory, clock, sims
        self.book = Book()
        self.events = Events(spec.ref_prefix)
        self.buckets: dict[date, list[Planned]] = defaultdict(list)
        self.actions: dict[date, list[Action]] = defaultdict(list)
        self.loads_on: dict[date, list[tuple[BudgetSim, date]]] = defaultdict(list)
        self.failed_actions: set[int] = set()  # cases whose planted action was refused
        self.plant_payments: dict[int, list[bool]] = defaultdict(list)  # case -> applied?
        self.refs: dict[str, CardRef | None] = {}
        self.sent = 0
        self.live: list[Planned] = []  # the last day's payments, sent as they happen
        self.primaries = {sim.case.index: sim for sim in sims if sim.primary}
        horizon = spec.today + timedelta(days=366)
        for sim in sims:
            self.book.open(sim.budget)
            if sim.pot:
                self.book.open(sim.pot, parent=sim.budget)
            self._add(planted.one_off_events(spec, self.events, sim))
            for action in planted.actions(sim):
                self.actions[london_day(action.at)].append(action)
            for due in due_dates(sim.plan.starts_on, WEEKS, None, spec.first_day, horizon):
                self.loads_on[working_day_on_or_before(due)].append((sim, due))

    def run_days(self, days: list[date], divert: Callable[[Planned], bool] | None = None) -> None:
        """Simulate ``days`` in one transaction (a day, or a batch of them: the ledger's
        lookups are made once a transaction). ``divert`` picks payments of the last of
        them to leave for the live channel (``self.live``) instead of the report."""
        with self.factory() as session, session.begin():
            for day in days:
                for action in sorted(self.actions.pop(day, []), key=lambda a: (a.at, a.case)):
                    self._act(session, action)
                with postings.deferred(session):
                    self._load(session, day)
                    items = sorted(self.buckets.pop(day, []), key=lambda p: (p.at, p.seq))
                    if divert is not None and day == days[-1]:
                        live = [p for p in items if divert(p)][:LIVE_AT_MOST]
                        self.live += live
                        items = [p for p in items if p not in live]
                    self._report(session, items)

    def load_day(self, day: date) -> None:
        """Only the day's scheduled loads (the morning of the day the population is as of)."""
        with self.factory() as session, session.begin(), postings.deferred(session):
            self._load(session, day)

    def _load(self, session: Session, day: date) -> None:
        """The day's scheduled loads, and the periods they start."""
        self.clock.current = at(day, 5)
        ledger = Ledger(session, self.clock)
        due_today = self.loads_on.pop(day, [])
        postings.prefetch_accounts(session, sorted({s.budget for s, _ in due_today}))
        for sim, due_on in due_today:
            plan, plant = sim.plan, sim.case.plant if sim.primary else None
            if plant and plant.kind == "spend_after_death" and plant.day and plant.day <= due_on:
                continue  # the job makes no load after a death
            amount = plan.budget - plan.contribution
            pots = [sim.pot] if sim.pot else []
            in_hand = self.book.balance(sim.budget, pots) - self._reserved(sim, day)
            key = f"scheduled-load:{plan.plan_id}:{due_on.isoformat()}"  # the job's key
            reference = f"Scheduled load for {due_on.isoformat()}"
            ledger.load(sim.budget, amount, source=SCHEDULER, key=key, reference=reference)
            self.book.credit(sim.budget, amount)
            k = period_index(plan.starts_on, WEEKS, due_on)
            items, pot = period_plan(self.events, sim, k, due_on, in_hand)
            self._add(items)
            allocation = min(pot, self.book.available(sim.budget))
            if sim.pot and allocation > 0 and self.book.move(sim.budget, sim.pot, allocation):
                pot_key = f"pot:{sim.case.pot_id}:{due_on.isoformat()}"
                ledger.allocate_to_pot(sim.case.pot_id, allocation, source="council", key=pot_key)

    def _reserved(self, sim: BudgetSim, day: date) -> int:
        """Planted money the budget is meant to keep (an interim payment left unspent)."""
        plant = sim.case.plant if sim.primary else None
        if plant and plant.kind == "surplus" and plant.day and plant.day < day:
            return plant.amount
        return 0

    def _act(self, session: Session, action: Action) -> None:
        self.clock.current = action.at
        simulated = SimulatedProvider(session, self.clock)
        provider = OutboundCommands(session, self.clock, {PROVIDER: simulated})
        try:
            action.run(session, self.clock, provider)
        except DomainError:
            self.failed_actions.add(action.case)
            return
        plant = self.primaries[action.case].case.plant
        if plant is not None and plant.kind in ("surplus", "pattern_change"):
            self.book.credit(self.primaries[action.case].budget, plant.amount)

    def _report(self, session: Session, items: list[Planned]) -> None:
        accepted = []
        for item in items:
            done = self.book.accept(item)
            if item.plant:
                self.plant_payments[item.case].append(done is not None)
            if done is None:
                continue
            accepted.append(done)
        if not accepted:
            return
        applier = EventApplier(
            session, self.clock, provider=PROVIDER, cards=lambda token: self._ref(session, token)
        )
        postings.prefetch_keys(session, PROVIDER, [p.event.event_id for p in accepted])
        postings.prefetch_accounts(session, sorted({p.account for p in accepted}))
        for item in accepted:
            self.clock.current = item.at
            applier.apply(item.event)
        self.sent += len(accepted)

    def failed(self) -> set[int]:
        """Cases whose planted case did not happen: an officer's action was refused, or a
        payment it needed was (for a flexible kind, every one of its payments was)."""
        out = set(self.failed_actions)
        for case, applied in self.plant_payments.items():
            plant = self.primaries[case].case.plant
            flexible = plant is not None and plant.kind in planted.FLEXIBLE
            if not all(applied) and (not flexible or not any(applied)):
                out.add(case)
        return out

    def _ref(self, session: Session, token: str) -> CardRef | None:
        if token not in self.refs:
            self.refs[token] = card_ref(session, PROVIDER, token)
        return self.refs[token]

    def _add(self, items: list[Planned]) -> None:
        for item in items:
            self.buckets[london_day(item.at)].append(item)


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()
