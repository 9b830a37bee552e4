"""The portable SQL (London dates on both databases) and that the models and the
migration agree for monitoring's tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import literal, select

from ledger.db import Base, UTCDateTime
from monitoring.dates import LONDON
from monitoring.repositories.sql import days_between, london_date, london_hour

MOMENTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # GMT, the night BST starts
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # BST begins
    datetime(2026, 5, 3, 23, 30, tzinfo=UTC),  # 00:30 on 4 May in London
    datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # still BST
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # GMT again
    datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_london_date_and_hour_in_sql_match_python(session, moment):
    value = literal(moment, UTCDateTime())
    day, hour = session.execute(select(london_date(value), london_hour(value))).one()
    local = moment.astimezone(LONDON)
    assert (day, hour) == (local.date(), local.hour)


def test_days_between_dates(session):
    start = literal(date(2026, 3, 1))
    assert session.execute(select(days_between(start, literal(date(2026, 4, 6))))).scalar() == 36


def monitoring_tables() -> set[str]:
    return {
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if mapper.class_.__module__.startswith("monitoring.")
    }


def test_monitoring_models_and_migration_agree(engine):
    tables = monitoring_tables()
    assert {"flags", "flag_evidence", "scheduler_leases", "notifications"} <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    ours = [d for d in differences if tables & _tables_named(d)]
    assert ours == []


def _tables_named(difference: object) -> set[str]:
    """Table names mentioned anywhere in an Alembic difference (nested tuples and lists
    of schema objects and names)."""
    found: set[str] = set()
    stack = [difference]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            found.add(item)
        else:
            table = getattr(item, "table", None)
            for name in (getattr(table, "name", None), getattr(item, "name", None)):
                if isinstance(name, str):
                    found.add(name)
    return found
