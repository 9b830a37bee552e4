"""Queries for the officers' flag queue.

A page of the queue is two statements whatever the number of flags, each with a bounded
cost (flags with the person they concern are joined, never fetched per row):

1. How many flags match, counted up to ``COUNT_LIMIT + 1`` in no order. Unordered, the
   database uses the most selective index for the filters (the partial indexes over open
   flags, and those led by status, then assignee or monitor: ``monitoring.models.flags``),
   so a filter that matches few flags, or none, costs little.
2. The page. When at most ``COUNT_LIMIT`` match, the page orders those, found again the
   same way (the matching flags in no order, up to the limit, as a subquery: its
   ``LIMIT`` keeps the database from walking an ordered index past the flags that do not
   match). When more match, the page is read in the sort's order from an index that
   holds it (by SLA due or by when raised, over open flags or within a status), stopping
   once the page is full; most severe first is one index range per severity, merged (a
   ``CASE`` in ``ORDER BY`` would sort every open flag).

Both statements' text depends only on which filters are set, never on how many flags
match, so the database driver prepares each once (sending a thousand ids back as
parameters cost more than the rest of the page put together). The statements are built
once for each such shape, with the filters' values as parameters, and kept: building
them (the subqueries' columns above all) took as much of the page's CPU as the database.

Paging is by offset, bounded: at most ``COUNT_LIMIT`` flags are reachable, and the page
asks officers to narrow the filters beyond that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ledger.models import Person
from monitoring.models import Flag, FlagStatus, Severity
from portal.models import OFFICER_ROLES, User

COUNT_LIMIT = 1000

# The queue's status filter: open or in review, or one status.
ACTIVE = "active"


class QueueSort(StrEnum):
    SLA = "sla"  # SLA due, soonest (most overdue) first
    SEVERITY = "severity"  # most severe first, then SLA due
    NEWEST = "newest"  # raised most recently first
    OLDEST = "oldest"  # raised longest ago first


@dataclass(frozen=True)
class QueueFilter:
    """Which flags to list. Empty ``severities`` means any severity."""

    status: str = ACTIVE  # ACTIVE, or a FlagStatus value
    severities: tuple[Severity, ...] = ()
    monitor: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    raised_after: datetime | None = None
    raised_before: datetime | None = None
    include_snoozed: bool = False


@dataclass(frozen=True)
class QueueRow:
    flag_id: int
    title: str
    monitor: str
    severity: Severity
    status: FlagStatus
    assignee: str | None
    sla_due_at: datetime
    raised_at: datetime
    snoozed_until: datetime | None
    person_id: int | None
    person_name: str | None
    council_reference: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    matching: int  # how many flags match, counted up to COUNT_LIMIT + 1
    number: int  # this page's number, from 1
    pages: int  # how many pages the reachable flags fill (at least 1)

    @property
    def beyond_limit(self) -> bool:
        return self.matching > COUNT_LIMIT

    @property
    def reachable(self) -> int:
        return min(self.matching, COUNT_LIMIT)


_COLUMNS = (
    Flag.id,
    Flag.title,
    Flag.monitor,
    Flag.severity,
    Flag.status,
    Flag.assignee,
    Flag.sla_due_at,
    Flag.raised_at,
    Flag.snoozed_until,
    Flag.person_id,
)


def queue_page(
    session: Session,
    now: datetime,
    filters: QueueFilter,
    sort: QueueSort,
    *,
    number: int,
    size: int,
) -> QueuePage:
    """Page ``number`` (moved into the pages there are) of the queue, and how many flags
    match (see the module docstring)."""
    shape = _Shape.of(filters)
    values = _values(filters, now)
    # How many match, up to the limit and in no order: the database picks the most
    # selective index for the filters, so a filter that matches few flags costs little.
    matching = session.execute(_count_statement(shape), values).scalar_one()
    pages = max(1, -(-min(matching, COUNT_LIMIT) // size))
    number = min(max(number, 1), pages)
    offset = (number - 1) * size
    limit = min(size, COUNT_LIMIT - offset)  # the last page stops at the limit
    statement = _page_statement(shape, sort, many=matching > COUNT_LIMIT)
    rows = session.execute(
        statement, {**values, "offset": offset, "limit": limit, "first": offset + limit}
    ).all()
    # The statement's columns are QueueRow's fields, in order.
    return QueuePage([QueueRow(*row) for row in rows], matching, number, pages)


@dataclass(frozen=True)
class _Shape:
    """Which filters are set: all that the statements' text depends on (the severities
    themselves only when sorting most severe first, a part for each)."""

    active: bool  # open or in review, rather than one status
    open_status_assignee: bool  # one open status and an assignee
    severities: tuple[Severity, ...]
    monitor: bool
    assignee: bool
    unassigned: bool
    raised_after: bool
    raised_before: bool
    include_snoozed: bool

    @classmethod
    def of(cls, filters: QueueFilter) -> _Shape:
        active = filters.status == ACTIVE
        return cls(
            active=active,
            open_status_assignee=not active
            and FlagStatus(filters.status).is_open
            and filters.assignee is not None,
            severities=tuple(sorted(set(filters.severities), key=lambda s: -s.rank)),
            monitor=filters.monitor is not None,
            assignee=filters.assignee is not None,
            unassigned=filters.unassigned,
            raised_after=filters.raised_after is not None,
            raised_before=filters.raised_before is not None,
            include_snoozed=filters.include_snoozed,
        )


def _values(filters: QueueFilter, now: datetime) -> dict[str, Any]:
    """The statements' parameters for these filters (those a shape does not use are
    ignored)."""
    return {
        "status": None if filters.status == ACTIVE else FlagStatus(filters.status),
        "severities": list(filters.severities),
        "monitor": filters.monitor,
        "assignee": filters.assignee,
        "raised_after": filters.raised_after,
        "raised_before": filters.raised_before,
        "now": now,
        # A parameter, not in the kept statements' text, so the limit can change.
        "counted": COUNT_LIMIT + 1,
    }


@lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> Select[Any]:
    counted = bindparam("counted", type_=Integer)
    found = select(Flag.id).where(*_conditions(shape)).limit(counted).subquery()
    return select(func.count()).select_from(found)


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape, sort: QueueSort, *, many: bool) -> Select[Any]:
    """The page's statement: parameters ``offset`` and ``limit`` (the page), ``first``
    (how many flags the page needs read in order: offset + limit), ``counted`` (how many
    flags the count looks for) and the filters'."""
    conditions = _conditions(shape)
    first: BindParameter[int] = bindparam("first", type_=Integer)
    if not many:
        # A thousand at most: order all of them, found in no order as above.
        flags = (
            select(*_COLUMNS, _rank().label("rank"))
            .where(*conditions)
            .limit(bindparam("counted", type_=Integer))
            .subquery()
        )
    elif sort is QueueSort.SEVERITY:
        flags = _by_severity(_conditions(shape, severity=False), shape.severities, first)
    else:
        # Many match: read them in the sort's order from the index that holds it.
        flags = (
            select(*_COLUMNS, literal(0).label("rank"))
            .where(*conditions)
            .order_by(*_order(sort, Flag.__table__.c))
            .limit(first)
            .subquery()
        )
    # The page first, then the people on it: a join on one page, not on every candidate.
    page = (
        select(flags)
        .order_by(*_order(sort, flags.c))
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
        .subquery()
    )
    return (
        select(
            page.c.id.label("flag_id"),
            *(page.c[c.key] for c in _COLUMNS[1:]),
            Person.full_name.label("person_name"),
            Person.council_reference,
        )
        .outerjoin(Person, Person.id == page.c.person_id)
        .order_by(*_order(sort, page.c))
    )


def _rank() -> ColumnElement[int]:
    return case({s.value: s.rank for s in Severity}, value=Flag.severity, else_=0)


def _order(sort: QueueSort, columns: Any) -> list[Any]:
    """The sort's keys over ``columns`` (the table's, or a subquery's)."""
    if sort is QueueSort.SEVERITY:
        return [columns.rank.desc(), columns.sla_due_at, columns.id]
    if sort is QueueSort.NEWEST:
        return [columns.raised_at.desc(), columns.id.desc()]
    if sort is QueueSort.OLDEST:
        return [columns.raised_at, columns.id]
    return [columns.sla_due_at, columns.id]


def _conditions(shape: _Shape, *, severity: bool = True) -> list[ColumnElement[bool]]:
    """The filters' conditions, their values as parameters (``_values``)."""
    conditions: list[ColumnElement[bool]] = []
    if severity and shape.severities:
        conditions.append(Flag.severity.in_(bindparam("severities", expanding=True)))
    if shape.active:
        # open_key is set exactly while a flag is open or in review: the partial indexes'
        # condition, so the database can use them.
        conditions.append(Flag.open_key.is_not(None))
    else:
        conditions.append(Flag.status == bindparam("status"))
        if shape.open_status_assignee:
            # Implied by the status; said outright, it lets "mine in review" use the
            # partial index by assignee (only then: alone, the status index serves better).
            conditions.append(Flag.open_key.is_not(None))
    if shape.monitor:
        conditions.append(Flag.monitor == bindparam("monitor"))
    if shape.unassigned:
        conditions.append(Flag.assignee.is_(None))
    elif shape.assignee:
        conditions.append(Flag.assignee == bindparam("assignee"))
    if shape.raised_after:
        after: BindParameter[datetime] = bindparam("raised_after")
        conditions.append(Flag.raised_at >= after)
        # Implied by the line above: a flag is never due before it was raised (SLA hours
        # are above zero, and a new hit only brings the SLA forward to after it arrived).
        # Said outright, it lets the database start an SLA-ordered index at the window
        # rather than walk past every older flag (recent flags are the latest due).
        conditions.append(Flag.sla_due_at >= after)
    if shape.raised_before:
        conditions.append(Flag.raised_at < bindparam("raised_before"))
    if not shape.include_snoozed:
        snooze_over = Flag.snoozed_until <= bindparam("now")
        conditions.append(or_(Flag.snoozed_until.is_(None), snooze_over))
    return conditions


def _by_severity(
    conditions: Sequence[ColumnElement[bool]],
    severities: Sequence[Severity],
    first: BindParameter[int],
) -> Any:
    """The first ``first`` flags of each severity in SLA order, as one subquery."""
    wanted = sorted(severities or list(Severity), key=lambda s: s.rank, reverse=True)
    parts: list[Select[Any]] = []
    for severity in wanted:
        part = (
            select(*_COLUMNS, literal(severity.rank).label("rank"))
            .where(*conditions, Flag.severity == severity)
            .order_by(Flag.sla_due_at, Flag.id)
            .limit(first)
            .subquery()
        )
        parts.append(select(part))
    return union_all(*parts).subquery()


def officers(session: Session) -> list[str]:
    """The sign-in emails of active officers and senior officers: who a flag can be
    assigned to."""
    return list(
        session.execute(
            select(User.email)
            .where(User.role.in_(OFFICER_ROLES), User.active.is_(True))
            .order_by(User.email)
        ).scalars()
    )
