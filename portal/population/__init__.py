"""A realistic population of people, carers, plans, cards and their money, generated
through the real services and adapters, with planted cases for every monitor and the
ground truth to score the monitors against (``dpledger demo generate``, ``make bench``).

Nothing is written as rows: people, plans and cards through ``ledger.enrolment``; the
council's 4-weekly loads through ``Ledger.load``, made as the scheduled-loads job makes
them (its source and key, net of the contribution, none after a death), so the job, when
it next runs, finds them made; companion pots through ``Ledger.allocate_to_pot``;
deaths, hospital stays and emergency loads through monitoring's officer services; what
the card provider reports each day (card payments, cash, refunds, direct debits, standing
orders, Faster Payments, contributions, authorisations and reversals) as canonical events
through ``adapters.apply.EventApplier``; the last day's card payments through the
simulated provider's signed webhooks, decided in real time; and the last day's closing
balances through the statement-file import. One transaction per simulated week.

The same ``PopulationSpec`` (seed, size, months, day) gives the same population: every
random choice comes from a ``random.Random`` seeded from the spec, the clock is fixed and
moved by the generator, and nothing depends on the order of a dict or a set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from adapters.statement_file import ImportReport
from ledger.clock import FixedClock
from portal.population.days import Simulation
from portal.population.enrol import enrol
from portal.population.live import diverted, send_live
from portal.population.plants import assign_plants
from portal.population.roster import draw_roster
from portal.population.spec import PopulationSpec, at
from portal.population.statement import closing_lines, import_closing_balances
from portal.population.truth import GroundTruth, MonitorScore, ground_truth, score

DAYS_A_TRANSACTION = 7  # the ledger reads each card's accounts once a transaction

__all__ = ["Generated", "GroundTruth", "MonitorScore", "PopulationSpec", "generate", "score"]


@dataclass
class Generated:
    truth: GroundTruth
    simulation: Simulation
    people: int  # people and carers enrolled
    cards: int
    events: int  # provider events applied (the webhooks' included)
    live: dict[str, int]
    statement: ImportReport


def generate(
    factory: sessionmaker[Session],
    spec: PopulationSpec,
    *,
    clock: FixedClock | None = None,
    progress: Callable[[str], None] | None = None,
) -> Generated:
    """Generate ``spec``'s population into the database; commits once per simulated week.
    Returns the ground truth and what was made. The clock is left at ``spec.as_of``."""
    clock = clock or FixedClock(at(spec.first_day, 8))
    cases = draw_roster(spec)
    assign_plants(spec, cases)
    sims = enrol(factory, clock, spec, cases)
    simulation = Simulation(spec, factory, clock, sims)
    days = spec.days()
    for first in range(0, len(days), DAYS_A_TRANSACTION):
        batch = days[first : first + DAYS_A_TRANSACTION]
        simulation.run_days(batch, divert=diverted if batch[-1] == spec.last_day else None)
        done = first + len(batch)
        if progress is not None and (done % 28 == 0 or done == len(days)):
            progress(
                f"{batch[-1].isoformat()}: {done} of {len(days)} days, {simulation.sent:,} events"
            )
    planted = {case.index for case in cases if case.plant is not None}
    live = send_live(factory, clock, simulation.book, simulation.live, spec.seed, planted)
    statement = import_closing_balances(factory, clock, spec, closing_lines(spec, simulation))
    simulation.load_day(spec.today)
    clock.current = spec.as_of
    carers = sum(1 for case in cases if case.carer is not None)
    cards = sum(1 + (c.carer_card is not None) + (c.companion_card is not None) for c in cases)
    return Generated(
        truth=ground_truth(spec, cases, simulation.failed()),
        simulation=simulation,
        people=len(cases) + carers,
        cards=cards,
        events=simulation.sent + sum(live[k] for k in ("approved", "declined")),
        live=live,
        statement=statement,
    )
