"""Queries on people for the portal: look-ups, and the officers' People page.

The People page lists people by name, a page at a time, after (or before) a person: a
keyset on (name, id) in the order of ``SearchKey`` (the letters A to Z folded to lower
case, then code point order), read from the index of migration 0017. A search is the
start of a name, one range of that index, or a whole council reference, a look-up on
the other. Every page is the same few index reads whatever the number of people.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import Card, Person
from portal.models import SearchKey

PAGE_SIZE = 50
# Above every character a name can hold: a prefix's range ends at prefix + this.
_LAST_CHARACTER = "\U0010ffff"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def by_reference(session: Session, council_reference: str) -> Person | None:
    return session.execute(
        select(Person).where(Person.council_reference == council_reference.strip())
    ).scalar_one_or_none()


def get(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


@dataclass(frozen=True)
class PersonRow:
    person_id: int
    council_reference: str
    full_name: str
    cards: int


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    previous_before: int | None  # the first row's id, when there are people before it
    next_after: int | None  # the last row's id, when there are people after it


def fold_case(text: str) -> str:
    """A to Z in lower case, and nothing else changed: as ``SearchKey`` compares."""
    return text.translate(_ASCII_LOWER)


def people_page(
    session: Session,
    *,
    search: str | None = None,
    after: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> PeoplePage:
    """People by name with how many cards they hold: the first page, the page after the
    person ``after``, or the page before the person ``before``. With ``search``, only
    people whose name starts with it, or whose council reference is it (either ignoring
    the case of A to Z). A cursor naming no one is ignored (the first page)."""
    name = SearchKey(Person.full_name)
    backwards = before is not None and after is None
    cursor = _cursor(session, before if backwards else after)
    wanted: list[ColumnElement[bool]] = []
    if cursor is not None:
        # (name, id) after the cursor's, written so both databases seek the index to the
        # cursor's name (SQLite does not for a row value compared with <).
        key, person_id = cursor
        if backwards:
            wanted += [name <= key, or_(name < key, Person.id < person_id)]
        else:
            wanted += [name >= key, or_(name > key, Person.id > person_id)]
    term = fold_case(search.strip()) if search and search.strip() else None
    order = (name.desc(), Person.id.desc()) if backwards else (name, Person.id)

    by_name = _rows().where(*wanted).order_by(*order).limit(size + 1)
    if term is not None:
        by_name = by_name.where(name >= term, name < term + _LAST_CHARACTER)
    found = {row.person_id: row for row in _people(session, by_name)}
    if term is not None:
        by_reference = _rows().where(*wanted, SearchKey(Person.council_reference) == term)
        found.update((row.person_id, row) for row in _people(session, by_reference))

    rows = sorted(found.values(), key=_place, reverse=backwards)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return PeoplePage([], None, None)
    earlier = more if backwards else cursor is not None
    later = True if backwards else more
    return PeoplePage(
        rows,
        rows[0].person_id if earlier else None,
        rows[-1].person_id if later else None,
    )


def _place(row: PersonRow) -> tuple[str, int]:
    """A row's place in the page's order, as the database sorts ``SearchKey``."""
    return fold_case(row.full_name), row.person_id


def _cursor(session: Session, person_id: int | None) -> tuple[str, int] | None:
    if person_id is None:
        return None
    found = session.execute(
        select(SearchKey(Person.full_name), Person.id).where(Person.id == person_id)
    ).one_or_none()
    return (found[0], found[1]) if found is not None else None


def _rows() -> Select[int, str, str, int]:
    cards = select(func.count()).where(Card.holder_id == Person.id).scalar_subquery()
    return select(Person.id, Person.council_reference, Person.full_name, cards)


def _people(session: Session, query: Select[int, str, str, int]) -> list[PersonRow]:
    return [PersonRow(r[0], r[1], r[2], r[3]) for r in session.execute(query)]
