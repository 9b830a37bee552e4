"""SQL expressions that mean the same on SQLite and PostgreSQL.

Council dates are Europe/London dates. PostgreSQL converts with its time zone database;
SQLite has none, so the UK rule (British Summer Time from 01:00 UTC on the last Sunday
of March to 01:00 UTC on the last Sunday of October, in force since 1996) is written
out in SQL. Timestamps on SQLite are stored as naive UTC text, which compares in order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class london_date(FunctionElement[Any]):
    """The Europe/London calendar date of a UTC timestamp."""

    type = Date()
    name = "london_date"
    inherit_cache = True


class london_hour(FunctionElement[Any]):
    """The Europe/London hour (0-23) of a UTC timestamp."""

    type = Integer()
    name = "london_hour"
    inherit_cache = True


class days_between(FunctionElement[Any]):
    """Whole days from the first date to the second (negative if it is earlier)."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


class json_array_contains(FunctionElement[Any]):
    """True when a JSON array column holds the given string."""

    type = Boolean()
    name = "json_array_contains"
    inherit_cache = True


class add_hours(FunctionElement[Any]):
    """A timestamp plus a whole number of hours."""

    name = "add_hours"
    inherit_cache = True


@compiles(add_hours, "sqlite")
def _add_hours_sqlite(element: add_hours, compiler: SQLCompiler, **kw: Any) -> str:
    ts, hours = _args(element, compiler, **kw)
    # Same text format SQLAlchemy stores, so comparisons stay in order.
    return f"strftime('%Y-%m-%d %H:%M:%f000', {ts}, ({hours}) || ' hours')"


@compiles(add_hours, "postgresql")
def _add_hours_pg(element: add_hours, compiler: SQLCompiler, **kw: Any) -> str:
    ts, hours = _args(element, compiler, **kw)
    return f"({ts} + ({hours}) * INTERVAL '1 hour')"


class greatest(FunctionElement[Any]):
    """The larger of two values."""

    name = "greatest"
    inherit_cache = True


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


def _sqlite_local(ts: str) -> str:
    year = f"strftime('%Y', {ts})"
    start = f"datetime(date({year} || '-03-25', 'weekday 0'), '+1 hour')"
    end = f"datetime(date({year} || '-10-25', 'weekday 0'), '+1 hour')"
    return (
        f"CASE WHEN {ts} >= {start} AND {ts} < {end} "
        f"THEN datetime({ts}, '+1 hour') ELSE datetime({ts}) END"
    )


@compiles(london_date, "sqlite")
def _london_date_sqlite(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = _args(element, compiler, **kw)
    return f"date({_sqlite_local(ts)})"


@compiles(london_date, "postgresql")
def _london_date_pg(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = _args(element, compiler, **kw)
    return f"CAST(({ts} AT TIME ZONE 'Europe/London') AS DATE)"


@compiles(london_hour, "sqlite")
def _london_hour_sqlite(element: london_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = _args(element, compiler, **kw)
    return f"CAST(strftime('%H', {_sqlite_local(ts)}) AS INTEGER)"


@compiles(london_hour, "postgresql")
def _london_hour_pg(element: london_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (ts,) = _args(element, compiler, **kw)
    return f"CAST(EXTRACT(HOUR FROM ({ts} AT TIME ZONE 'Europe/London')) AS INTEGER)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


@compiles(json_array_contains, "sqlite")
def _json_contains_sqlite(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    array, value = _args(element, compiler, **kw)
    # Both operands are compiled SQL fragments, never user text.
    return f"EXISTS (SELECT 1 FROM json_each({array}) AS je WHERE je.value = {value})"  # noqa: S608


@compiles(json_array_contains, "postgresql")
def _json_contains_pg(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    array, value = _args(element, compiler, **kw)
    return f"(CAST({array} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT)))"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({', '.join(_args(element, compiler, **kw))})"


@compiles(greatest, "postgresql")
def _greatest_pg(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({', '.join(_args(element, compiler, **kw))})"


def total(value: Any) -> ColumnElement[int]:
    """SUM as a whole number on both databases (PostgreSQL sums BIGINT as NUMERIC), zero
    when there is nothing to add."""
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


def period_index(starts_on: Any, period_weeks: Any, day: Any) -> ColumnElement[int]:
    """Which period of a plan a London date falls in (0 for the first). Only meaningful
    for dates on or after the plan's start."""
    result: ColumnElement[int] = days_between(starts_on, day) // (period_weeks * 7)
    return result


# Without a dialect (str() of a statement, for logging and debugging): PostgreSQL's form.
for _element, _pg in (
    (london_date, _london_date_pg),
    (london_hour, _london_hour_pg),
    (days_between, _days_between_pg),
    (json_array_contains, _json_contains_pg),
    (add_hours, _add_hours_pg),
    (greatest, _greatest_pg),
):
    compiles(_element)(_pg)
