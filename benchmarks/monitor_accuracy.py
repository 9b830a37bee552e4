"""Each monitor's precision and recall against a generated population's ground truth.

A population is generated with ``portal.population`` (through the real services and
adapters, with planted cases of every monitor's kind: see ``portal/population/plants.py``)
on SQLite and on PostgreSQL, every monitor runs once over it (as ``monitors run all``,
the clock at the moment the population is as of), and the flags raised on its people are
compared with what was planted:

- ``monitoring.<db>.<monitor>.recall``: of the planted subjects, the share flagged, in
  per cent. Target 100: every planted case must be found.
- ``monitoring.<db>.<monitor>.precision``: of the subjects flagged, the share planted, in
  per cent. Target 80. The background is generated within each plan's terms (lines spent within
  their allowance, balances level, contributions paid, reviews not yet due), so nearly
  every flag is a planted case; what is left is the population's own noise (a companion
  who paid for most of a period that has only just begun, say), which a monitor is right
  to raise and an officer would dismiss.

Also ``monitoring.<db>.generated_events``, and the generation rate in events a second.

Scales: ``small`` is 200 people (about 270 cards and 25,000 provider events); ``full``
is 1,500 (about 2,000 cards and 190,000 events).
"""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy.orm import sessionmaker

from benchmarks.databases import BenchDatabase, available, migrated
from benchmarks.figures import Figure, Scale
from ledger.clock import FixedClock
from monitoring.runner import run_all
from portal.population import PopulationSpec, generate, score

PEOPLE = {"small": 200, "full": 1_500}
TODAY = date(2026, 6, 22)  # a Monday; the history runs from December
SEED = 1
RECALL_TARGET = 100.0  # per cent
PRECISION_TARGET = 80.0


def run(scale: Scale) -> list[Figure]:
    figures: list[Figure] = []
    for database in available("monitor_accuracy"):
        figures += _run_on(database, PEOPLE[scale])
    return figures


def _run_on(database: BenchDatabase, people: int) -> list[Figure]:
    label = database.label
    spec = PopulationSpec(people=people, today=TODAY, seed=SEED)
    with migrated(database) as engine:
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        started = time.perf_counter()
        made = generate(sessions, spec)
        took = time.perf_counter() - started
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with sessions() as session, session.begin():
            run_all(session, FixedClock(spec.as_of), runner="benchmark")
        with sessions() as session:
            scores = score(session, made.truth)
    print(
        f"  {label}: {made.people:,} people and carers, {made.cards:,} cards, "
        f"{made.events:,} events generated in {took:.0f} s; "
        f"{len(made.truth.expected)} planted subjects, {len(made.truth.not_planted)} not planted",
        flush=True,
    )
    figures = [
        Figure(f"monitoring.{label}.generated_events", float(made.events), "events"),
        Figure(f"monitoring.{label}.generation_rate", round(made.events / took, 1), "events/s"),
    ]
    for row in scores:
        name = f"monitoring.{label}.{row.monitor}"
        figures += [
            Figure(f"{name}.recall", round(100 * row.recall, 1), "%", target=RECALL_TARGET),
            Figure(
                f"{name}.precision", round(100 * row.precision, 1), "%", target=PRECISION_TARGET
            ),
        ]
    return figures
