"""Life events on a person: hospital admission and discharge, respite, death. Recorded
by officers (with a note saying how they know) and read by the monitors: no unmet-need
flag during a hospital stay or respite; spend after death is critical."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidRecord, UnknownRecord
from ledger.models import Person
from monitoring.audit import record_action, require_officer, require_reason
from monitoring.errors import InvalidTransition
from monitoring.models import LifeEvent, LifeEventKind


class LifeEvents:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def hospital_admission(self, person_id: int, on: date, *, officer: str, note: str) -> LifeEvent:
        if self._open_stay(person_id) is not None:
            raise InvalidTransition("the person is already recorded as in hospital")
        return self._add(person_id, LifeEventKind.HOSPITAL_STAY, on, None, officer, note)

    def hospital_discharge(self, person_id: int, on: date, *, officer: str, note: str) -> LifeEvent:
        stay = self._open_stay(person_id)
        if stay is None:
            raise InvalidTransition("the person is not recorded as in hospital")
        if on < stay.starts_on:
            raise InvalidRecord("a discharge cannot be before the admission")
        officer, note = require_officer(officer), require_reason(note)
        stay.ends_on = on
        self.session.flush()
        self._audit(stay, officer, "hospital_discharge", note, {"ends_on": on.isoformat()})
        return stay

    def respite(
        self, person_id: int, starts_on: date, ends_on: date, *, officer: str, note: str
    ) -> LifeEvent:
        if ends_on < starts_on:
            raise InvalidRecord("respite cannot end before it starts")
        return self._add(person_id, LifeEventKind.RESPITE, starts_on, ends_on, officer, note)

    def death(self, person_id: int, on: date, *, officer: str, note: str) -> LifeEvent:
        """Record a death; the person's date of death is set for every part to see."""
        person = self._person(person_id)
        if person.date_of_death is not None:
            raise InvalidTransition("a date of death is already recorded")
        event = self._add(person_id, LifeEventKind.DEATH, on, on, officer, note)
        person.date_of_death = on
        self.session.flush()
        return event

    def _add(
        self,
        person_id: int,
        kind: LifeEventKind,
        starts_on: date,
        ends_on: date | None,
        officer: str,
        note: str,
    ) -> LifeEvent:
        officer, note = require_officer(officer), require_reason(note)
        self._person(person_id)
        event = LifeEvent(
            person_id=person_id,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            note=note,
            recorded_by=officer,
            recorded_at=self.clock.now(),
        )
        self.session.add(event)
        self.session.flush()
        after = {"kind": kind.value, "starts_on": starts_on.isoformat()}
        self._audit(event, officer, f"life_event_{kind.value}", note, after)
        return event

    def _audit(
        self, event: LifeEvent, officer: str, action: str, note: str, after: dict[str, str]
    ) -> None:
        record_action(
            self.session,
            self.clock,
            actor=officer,
            action=action,
            subject_type="person",
            subject_id=event.person_id,
            reason=note,
            after={"life_event_id": event.id, **after},
        )

    def _person(self, person_id: int) -> Person:
        person = self.session.get(Person, person_id)
        if person is None:
            raise UnknownRecord(f"person {person_id} does not exist")
        return person

    def _open_stay(self, person_id: int) -> LifeEvent | None:
        return self.session.execute(
            select(LifeEvent).where(
                LifeEvent.person_id == person_id,
                LifeEvent.kind == LifeEventKind.HOSPITAL_STAY,
                LifeEvent.ends_on.is_(None),
            )
        ).scalar_one_or_none()
