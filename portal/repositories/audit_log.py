"""The audit log as officers read it: officers' actions (``audit_entries``) and views of
people's records (``record_views``), one list, newest first.

Paged by a keyset cursor on (time, source, id), never OFFSET: each page is two indexed
range scans of at most a page and one row, whatever the size of the tables, and the
two are merged in memory. Filters: who (the email they sign in with), the person (an
action on their record, card, budget account, plan or clawback, or a view of their
record), the action, and a time range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from ledger.models import Account, Card, Person, Plan
from monitoring.models import AuditEntry, ClawbackProposal
from portal.models import RecordView, User

RECORD_VIEWED = "record_viewed"  # the action name a record view is listed under

# Where the two sources sort among rows at the same moment (part of the cursor).
_AUDIT, _VIEW = 1, 0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    person_id: int | None = None
    action: str | None = None
    start: datetime | None = None  # at or after
    end: datetime | None = None  # before


@dataclass(frozen=True, order=True)
class Cursor:
    """A row's place in the log: (time, source, id), compared in that order."""

    at: datetime
    source: int
    row_id: int

    def token(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.source}.{self.row_id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """A cursor from a link; None for anything that is not one (the newest page)."""
        parts = (token or "").split(".")
        if len(parts) != 3 or not all(p.isdigit() and len(p) < 19 for p in parts):
            return None
        micros, source, row_id = (int(p) for p in parts)
        if source not in (_AUDIT, _VIEW):
            return None
        try:
            at = _EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            return None
        return cls(at, source, row_id)


@dataclass(frozen=True)
class AuditRow:
    cursor: Cursor
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: int
    detail: str  # the reason given, or the page viewed
    person_id: int | None
    person_name: str | None
    person_reference: str | None
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    newer_after: str | None
    older_before: str | None


def audit_page(
    session: Session,
    wanted: AuditFilter,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = 50,
) -> AuditPage:
    """One page of the log, newest first: the newest page, the page older than
    ``before``, or the page newer than ``after``."""
    newer = after is not None and before is None
    cursor = after if newer else before
    rows = _merged(session, wanted, cursor, newer=newer, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if newer:
        rows.reverse()
        has_newer = more
        has_older = bool(rows) and bool(
            _merged(session, wanted, rows[-1].cursor, newer=False, limit=1)
        )
    else:
        has_older = more
        has_newer = (
            cursor is not None
            and bool(rows)
            and bool(_merged(session, wanted, rows[0].cursor, newer=True, limit=1))
        )
    rows = _with_people(session, rows)
    return AuditPage(
        rows=rows,
        newer_after=rows[0].cursor.token() if rows and has_newer else None,
        older_before=rows[-1].cursor.token() if rows and has_older else None,
    )


def _merged(
    session: Session, wanted: AuditFilter, cursor: Cursor | None, *, newer: bool, limit: int
) -> list[AuditRow]:
    """Up to ``limit`` rows beyond the cursor from both sources, in the page's order."""
    found: list[AuditRow] = []
    if wanted.action in (None, RECORD_VIEWED):
        found += _views(session, wanted, cursor, newer=newer, limit=limit)
    if wanted.action != RECORD_VIEWED:
        found += _entries(session, wanted, cursor, newer=newer, limit=limit)
    found.sort(key=lambda row: row.cursor, reverse=not newer)
    return found[:limit]


def _beyond(
    at: Any, row_id: Any, source: int, cursor: Cursor | None, *, newer: bool
) -> list[ColumnElement[bool]]:
    """Rows of one source beyond the cursor: (at, source, id) after or before it. The
    source is fixed within a query, so the comparison stays a plain range on (at, id)."""
    if cursor is None:
        return []
    if newer:
        if source > cursor.source:
            return [at >= cursor.at]
        if source < cursor.source:
            return [at > cursor.at]
        # The plain bound lets the database range-scan the (time, id) index.
        return [at >= cursor.at, or_(at > cursor.at, and_(at == cursor.at, row_id > cursor.row_id))]
    if source < cursor.source:
        return [at <= cursor.at]
    if source > cursor.source:
        return [at < cursor.at]
    return [at <= cursor.at, or_(at < cursor.at, and_(at == cursor.at, row_id < cursor.row_id))]


def _in_range(at: Any, wanted: AuditFilter) -> list[ColumnElement[bool]]:
    found = []
    if wanted.start is not None:
        found.append(at >= wanted.start)
    if wanted.end is not None:
        found.append(at < wanted.end)
    return found


def _ordered(query: Select[Any], at: Any, row_id: Any, *, newer: bool) -> Select[Any]:
    return query.order_by(at, row_id) if newer else query.order_by(at.desc(), row_id.desc())


def _entries(
    session: Session, wanted: AuditFilter, cursor: Cursor | None, *, newer: bool, limit: int
) -> list[AuditRow]:
    query = select(AuditEntry).where(
        *_beyond(AuditEntry.at, AuditEntry.id, _AUDIT, cursor, newer=newer),
        *_in_range(AuditEntry.at, wanted),
    )
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.person_id is not None:
        query = query.where(_about_person(session, wanted.person_id))
    query = _ordered(query, AuditEntry.at, AuditEntry.id, newer=newer).limit(limit)
    return [
        AuditRow(
            cursor=Cursor(e.at, _AUDIT, e.id),
            at=e.at,
            actor=e.actor,
            action=e.action,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            detail=e.reason,
            person_id=e.subject_id if e.subject_type == "person" else None,
            person_name=None,
            person_reference=None,
            before=dict(e.before or {}),
            after=dict(e.after or {}),
        )
        for e in session.execute(query).scalars()
    ]


def _views(
    session: Session, wanted: AuditFilter, cursor: Cursor | None, *, newer: bool, limit: int
) -> list[AuditRow]:
    query = (
        select(RecordView.id, RecordView.viewed_at, RecordView.person_id, RecordView.page)
        .add_columns(User.email)
        .join(User, User.id == RecordView.viewer_id)
        .where(
            *_beyond(RecordView.viewed_at, RecordView.id, _VIEW, cursor, newer=newer),
            *_in_range(RecordView.viewed_at, wanted),
        )
    )
    if wanted.actor:
        viewer = select(User.id).where(User.email == wanted.actor).scalar_subquery()
        query = query.where(RecordView.viewer_id == viewer)
    if wanted.person_id is not None:
        query = query.where(RecordView.person_id == wanted.person_id)
    query = _ordered(query, RecordView.viewed_at, RecordView.id, newer=newer).limit(limit)
    return [
        AuditRow(
            cursor=Cursor(viewed_at, _VIEW, view_id),
            at=viewed_at,
            actor=email,
            action=RECORD_VIEWED,
            subject_type="person",
            subject_id=person_id,
            detail=page,
            person_id=person_id,
            person_name=None,
            person_reference=None,
            before={},
            after={},
        )
        for view_id, viewed_at, person_id, page, email in session.execute(query)
    ]


# Audit subjects that belong to a person, and how to find that person's ones.
_SUBJECTS: dict[str, tuple[Any, Any]] = {
    "card": (Card.id, Card.holder_id),
    "account": (Account.id, Account.owner_id),
    "plan": (Plan.id, Plan.person_id),
    "clawback": (ClawbackProposal.id, ClawbackProposal.person_id),
}


def _about_person(session: Session, person_id: int) -> ColumnElement[bool]:
    """Entries about the person: on their record, or on a card, account, plan or
    clawback of theirs. Their subjects are few, so each is looked up first and the
    entries found through the (subject_type, subject_id) index."""
    conditions = [and_(AuditEntry.subject_type == "person", AuditEntry.subject_id == person_id)]
    for subject_type, (id_column, person_column) in _SUBJECTS.items():
        ids = list(session.execute(select(id_column).where(person_column == person_id)).scalars())
        if ids:
            conditions.append(
                and_(AuditEntry.subject_type == subject_type, AuditEntry.subject_id.in_(ids))
            )
    return or_(*conditions)


def _with_people(session: Session, rows: list[AuditRow]) -> list[AuditRow]:
    """The person each row is about, looked up for the whole page at once (one query per
    kind of subject on the page)."""
    person_of: dict[tuple[str, int], int] = {
        ("person", row.subject_id): row.subject_id for row in rows if row.subject_type == "person"
    }
    for subject_type, (id_column, person_column) in _SUBJECTS.items():
        ids = {row.subject_id for row in rows if row.subject_type == subject_type}
        if ids:
            for subject_id, person_id in session.execute(
                select(id_column, person_column).where(id_column.in_(ids))
            ):
                if person_id is not None:
                    person_of[(subject_type, subject_id)] = person_id
    people: dict[int, tuple[str, str]] = {}
    if person_of:
        people = {
            person_id: (name, reference)
            for person_id, name, reference in session.execute(
                select(Person.id, Person.full_name, Person.council_reference).where(
                    Person.id.in_(set(person_of.values()))
                )
            )
        }
    out = []
    for row in rows:
        person_id = person_of.get((row.subject_type, row.subject_id))
        name, reference = people.get(person_id, (None, None)) if person_id else (None, None)
        out.append(replace(row, person_id=person_id, person_name=name, person_reference=reference))
    return out
