"""The figures of the monthly monitoring report, each from one set-based query over a
month (a UTC range: the month's first and last London midnights).

- flags raised and flags closed in the month, per monitor;
- time to triage: for the flags raised in the month, how long until an officer first
  acted on each (the first entry in its history not written by the monitors), as a
  median and a mean per monitor and for all monitors; flags no one has acted on yet are
  counted, not timed;
- clawbacks proposed, approved and executed in the month: how many and their amounts in
  pence (as they stand: a proposal edited down counts at its new amount).

Precision per monitor is ``monitoring.flags.precision_by_monitor`` over the flags closed
in the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import BigInteger

from monitoring.flags import SYSTEM
from monitoring.models import ClawbackProposal, Flag, FlagHistory
from monitoring.repositories.sql import total


class seconds_between(FunctionElement[Any]):
    """Whole seconds from the first timestamp to the second."""

    type = BigInteger()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400.0) AS INTEGER)"


@compiles(seconds_between, "postgresql")
@compiles(seconds_between)
def _seconds_pg(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start}))) AS BIGINT)"


def without_jit(session: Session) -> None:
    """PostgreSQL compiles plans as costly as these (a month of flags, ranked) with JIT,
    which took longer than running them: measured on 1,000,000 flags, 2 to 3 s of
    compiling for under half a second of work. Off for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


@dataclass(frozen=True)
class MonitorFlags:
    monitor: str
    raised: int
    closed: int


def flags_by_monitor(session: Session, start: datetime, end: datetime) -> list[MonitorFlags]:
    raised, closed = _within(Flag.raised_at, start, end), _within(Flag.closed_at, start, end)
    rows = session.execute(
        select(
            Flag.monitor,
            total(case((raised, 1), else_=0)),
            total(case((closed, 1), else_=0)),
        )
        .where(or_(raised, closed))
        .group_by(Flag.monitor)
        .order_by(Flag.monitor)
    ).all()
    return [MonitorFlags(monitor, raised, closed) for monitor, raised, closed in rows]


@dataclass(frozen=True)
class TriageTimes:
    monitor: str | None  # None: all monitors together
    raised: int
    acted_on: int
    median_seconds: int | None
    mean_seconds: int | None

    @property
    def waiting(self) -> int:
        return self.raised - self.acted_on


def triage_times(
    session: Session, start: datetime, end: datetime
) -> tuple[list[TriageTimes], TriageTimes]:
    """Time to triage of the flags raised in the month: per monitor, and for all of them
    (also when there were none). One statement: the month's flags are read once, ranked
    by their wait within their monitor and overall, and both are aggregated from that."""
    month = (
        select(Flag.id, Flag.monitor, Flag.raised_at)
        .where(_within(Flag.raised_at, start, end))
        .cte("month_flags")
    )
    # Each flag's first entry in its history not written by the monitors.
    first = (
        select(FlagHistory.flag_id, func.min(FlagHistory.at).label("at"))
        .where(FlagHistory.flag_id.in_(select(month.c.id)), FlagHistory.actor != SYSTEM)
        .group_by(FlagHistory.flag_id)
        .subquery("first_action")
    )
    cohort = (
        select(
            month.c.monitor.label("monitor"),
            seconds_between(month.c.raised_at, first.c.at).label("seconds"),
        )
        .outerjoin(first, first.c.flag_id == month.c.id)
        .cte("cohort")
    )
    # Flags no one has acted on have no wait: they sort after the others (on both
    # databases), so the acted-on ones are ranked 1 to n.
    waited = (cohort.c.seconds.is_(None), cohort.c.seconds)
    ranked = select(
        cohort.c.monitor,
        cohort.c.seconds,
        func.row_number().over(partition_by=cohort.c.monitor, order_by=waited).label("rn_m"),
        func.count(cohort.c.seconds).over(partition_by=cohort.c.monitor).label("n_m"),
        func.row_number().over(order_by=waited).label("rn_a"),
        func.count(cohort.c.seconds).over().label("n_a"),
    ).cte("ranked")

    def summary(rn: Any, n: Any) -> list[Any]:
        # The middle wait, or the mean of the two middle ones of an even count.
        middle = or_(rn == (n + 1) // 2, rn == (n + 2) // 2)
        return [
            func.count(),
            func.count(ranked.c.seconds),
            func.avg(case((and_(ranked.c.seconds.is_not(None), middle), ranked.c.seconds))),
            func.avg(ranked.c.seconds),
        ]

    per_monitor = select(ranked.c.monitor, *summary(ranked.c.rn_m, ranked.c.n_m)).group_by(
        ranked.c.monitor
    )
    overall = select(
        literal(None, String()).label("monitor"), *summary(ranked.c.rn_a, ranked.c.n_a)
    )
    rows = session.execute(union_all(per_monitor, overall)).all()
    found = [
        TriageTimes(monitor, raised, acted_on, _whole(median), _whole(mean))
        for monitor, raised, acted_on, median, mean in rows
    ]
    every = [t for t in found if t.monitor is None]
    return sorted((t for t in found if t.monitor is not None), key=lambda t: t.monitor or ""), (
        every[0] if every else TriageTimes(None, 0, 0, None, None)
    )


def _whole(value: Any) -> int | None:
    """A database's average (a float on SQLite, a NUMERIC on PostgreSQL), to the second."""
    if value is None:
        return None
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ClawbackTotals:
    proposed: int
    proposed_pence: int
    approved: int
    approved_pence: int
    executed: int
    executed_pence: int


def clawback_totals(session: Session, start: datetime, end: datetime) -> ClawbackTotals:
    steps = [
        _within(ClawbackProposal.proposed_at, start, end),
        _within(ClawbackProposal.approved_at, start, end),
        _within(ClawbackProposal.executed_at, start, end),
    ]
    columns = []
    for step in steps:
        columns += [
            total(case((step, 1), else_=0)),
            total(case((step, ClawbackProposal.amount), else_=0)),
        ]
    row = session.execute(select(*columns).where(or_(*steps))).one()
    return ClawbackTotals(*(int(value) for value in row))
