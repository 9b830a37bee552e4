"""Opening a person's record: every view is logged (who, whom, when, which page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.models import Person
from ledger.repositories.cards import CardBalanceRow
from portal.models import RecordView, User
from portal.repositories import officer_records
from portal.repositories import people as people_repo


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    cards: list[CardBalanceRow]


def open_person_record(
    session: Session, clock: Clock, viewer: User, person_id: int, page: str
) -> PersonRecord | None:
    """The person's record, with the view logged in the same transaction; None (and
    nothing logged) when there is no such person."""
    person = people_repo.get(session, person_id)
    if person is None:
        return None
    session.add(
        RecordView(viewer_id=viewer.id, person_id=person.id, page=page[:200], viewed_at=clock.now())
    )
    session.flush()
    return PersonRecord(person, officer_records.cards_of_person(session, person.id))
