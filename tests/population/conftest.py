"""A generated population, built once per test module with real commits (one transaction
per simulated day, as the generator runs), the monitors run over it once, and every table
emptied afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from monitoring.runner import MonitorResult, run_all
from portal.population import Generated, PopulationSpec, generate
from tests.conftest import empty_tables

TODAY = date(2026, 4, 20)
# 40 people from seed 3 give every kind of planted case (checked by the tests).
SPEC = PopulationSpec(people=40, today=TODAY, seed=3)


@dataclass
class Population:
    spec: PopulationSpec
    made: Generated
    sessions: sessionmaker[Session]
    results: list[MonitorResult]


@pytest.fixture(scope="module")
def population(engine: Engine) -> Iterator[Population]:
    empty_tables(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        made = generate(sessions, SPEC)
        with sessions() as session, session.begin():
            results = run_all(session, FixedClock(SPEC.as_of), runner="test")
        yield Population(SPEC, made, sessions, results)
    finally:
        empty_tables(engine)
