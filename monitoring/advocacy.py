"""Independent advocacy before a recovery or review decision (Care Act 2014 s67-68).

Before deciding, the officer records whether the person would have substantial difficulty
being involved and whether there is an appropriate person to help. If they need an
advocate, the decision waits until one is appointed, unless it is urgent (the reason is
recorded)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidRecord, UnknownRecord
from monitoring.audit import record_action, require_officer, require_reason
from monitoring.errors import AdvocacyNotRecorded, AdvocateRequired
from monitoring.models import AdvocacyNeed


def record_need(
    session: Session,
    clock: Clock,
    *,
    person_id: int,
    decision: str,
    substantial_difficulty: bool,
    appropriate_person: bool,
    officer: str,
    reason: str,
) -> AdvocacyNeed:
    """Record, for one decision (e.g. ``"clawback:12"``), whether an advocate is needed."""
    officer, reason = require_officer(officer), require_reason(reason)
    need = AdvocacyNeed(
        person_id=person_id,
        decision=decision,
        substantial_difficulty=substantial_difficulty,
        appropriate_person=appropriate_person,
        recorded_by=officer,
        recorded_at=clock.now(),
        note=reason,
    )
    session.add(need)
    session.flush()
    record_action(
        session,
        clock,
        actor=officer,
        action="advocacy_need_recorded",
        subject_type="person",
        subject_id=person_id,
        reason=reason,
        after={
            "decision": decision,
            "substantial_difficulty": substantial_difficulty,
            "appropriate_person": appropriate_person,
            "needs_advocate": need.needs_advocate,
        },
    )
    return need


def appoint_advocate(
    session: Session, clock: Clock, need_id: int, advocate_name: str, *, officer: str, reason: str
) -> AdvocacyNeed:
    officer, reason = require_officer(officer), require_reason(reason)
    need = session.get(AdvocacyNeed, need_id)
    if need is None:
        raise UnknownRecord(f"advocacy record {need_id} does not exist")
    if not advocate_name.strip():
        raise InvalidRecord("name the advocate")
    need.advocate_name, need.advocate_appointed_at = advocate_name.strip(), clock.now()
    session.flush()
    record_action(
        session,
        clock,
        actor=officer,
        action="advocate_appointed",
        subject_type="person",
        subject_id=need.person_id,
        reason=reason,
        after={"decision": need.decision, "advocate": need.advocate_name},
    )
    return need


def require_settled(session: Session, person_id: int, decision: str, *, urgent: bool) -> None:
    """Raise unless the advocacy question for this decision is answered and, if an
    advocate is needed, one is appointed or the decision is urgent."""
    need = session.execute(
        select(AdvocacyNeed)
        .where(AdvocacyNeed.person_id == person_id, AdvocacyNeed.decision == decision)
        .order_by(AdvocacyNeed.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    # The messages are shown to officers as they are: the decision's key goes in the
    # error's context, not in the words.
    if need is None:
        raise AdvocacyNotRecorded(
            "record whether the person needs an independent advocate first", decision=decision
        )
    if need.needs_advocate and need.advocate_appointed_at is None and not urgent:
        raise AdvocateRequired(
            "the decision waits for an independent advocate to be appointed (or mark it urgent)",
            decision=decision,
        )
