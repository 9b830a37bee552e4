"""The same seed gives the same population, to the last transfer (the ledger's chain head
covers every transfer with its times and ids); another seed gives another."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import Base
from ledger.errors import InvalidRecord
from portal.population import PopulationSpec, generate
from portal.population.plants import assign_plants
from portal.population.repository import fingerprint
from portal.population.roster import draw_roster
from tests.conftest import empty_tables

TODAY = date(2026, 4, 20)


def _fresh(engine: Engine) -> None:
    """An empty database, ids starting again from 1 (PostgreSQL's sequences do not go
    back when rows are deleted; SQLite's ids follow the rows)."""
    empty_tables(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.name != "ledger_head":
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                    {"t": table.name},
                )


def _generated(engine: Engine, spec: PopulationSpec) -> tuple[str, list[object]]:
    _fresh(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    made = generate(sessions, spec)
    with sessions() as session:
        return fingerprint(session), list(made.truth.expected)


def test_the_same_seed_gives_the_same_population(
    engine: Engine, committed: sessionmaker[Session]
) -> None:
    spec = PopulationSpec(people=12, today=TODAY, seed=11)
    first, first_truth = _generated(engine, spec)
    again, again_truth = _generated(engine, spec)
    other, _ = _generated(engine, PopulationSpec(people=12, today=TODAY, seed=12))
    assert first == again
    assert first_truth == again_truth
    assert other != first


def test_drawing_the_roster_is_pure() -> None:
    spec = PopulationSpec(people=30, today=TODAY, seed=5)
    one, two = draw_roster(spec), draw_roster(spec)
    assign_plants(spec, one)
    assign_plants(spec, two)
    assert one == two
    other = draw_roster(PopulationSpec(people=30, today=TODAY, seed=6))
    assert [c.person.name for c in other] != [c.person.name for c in one]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people": 0}, "at least one person"),
        ({"months": 5}, "months of history"),
        ({"ref_prefix": "GEN-1"}, "letters and digits"),
        ({"plant_share": 0.5}, "planted share"),
    ],
)
def test_a_spec_that_cannot_be_generated_is_refused(
    changes: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"people": 5, "today": TODAY, **changes}
    with pytest.raises(InvalidRecord, match=message):
        PopulationSpec(**values)  # type: ignore[arg-type]
