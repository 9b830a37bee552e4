"""Opening a person's record: every view is logged (who, whom, when, which page), in the
same transaction as the read, whether the page shows the whole record or part of it (a
card, a clawback, an action's form)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.models import Person, Plan
from ledger.repositories.cards import CardBalanceRow
from monitoring.models import ClawbackProposal, EmergencyLoad, Flag, LifeEvent, ReviewRequest
from portal.models import RecordView, User
from portal.repositories import officer_records as records_repo
from portal.repositories import people as people_repo
from portal.repositories.officer_records import Relationship


def log_record_view(
    session: Session, clock: Clock, viewer: User, person_id: int, page: str
) -> None:
    """Log that ``viewer`` saw part of the person's record on ``page``."""
    session.add(
        RecordView(viewer_id=viewer.id, person_id=person_id, page=page[:200], viewed_at=clock.now())
    )
    session.flush()


def open_person(
    session: Session, clock: Clock, viewer: User, person_id: int, page: str
) -> Person | None:
    """The person, with the view logged; None (and nothing logged) when there is none."""
    person = people_repo.get(session, person_id)
    if person is not None:
        log_record_view(session, clock, viewer, person.id, page)
    return person


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    cards: list[CardBalanceRow]
    relationships: list[Relationship]
    plans: Sequence[Plan]
    life_events: Sequence[LifeEvent]
    open_flags: Sequence[Flag]
    clawbacks: Sequence[ClawbackProposal]
    emergency_loads: Sequence[EmergencyLoad]
    reviews: Sequence[ReviewRequest]


def open_person_record(
    session: Session, clock: Clock, viewer: User, person_id: int, page: str
) -> PersonRecord | None:
    """The person's whole record, with the view logged; None (and nothing logged) when
    there is no such person."""
    person = open_person(session, clock, viewer, person_id, page)
    if person is None:
        return None
    return PersonRecord(
        person=person,
        cards=records_repo.cards_of_person(session, person.id),
        relationships=records_repo.relationships_of(session, person.id),
        plans=records_repo.plans_of(session, person.id),
        life_events=records_repo.life_events_of(session, person.id),
        open_flags=records_repo.open_flags_of(session, person.id),
        clawbacks=records_repo.clawbacks_of(session, person.id),
        emergency_loads=records_repo.emergency_loads_of(session, person.id),
        reviews=records_repo.reviews_of(session, person.id),
    )
