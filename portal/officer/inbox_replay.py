"""An officer replaying a parked provider event, audited.

The replay is the inbox's own ``apply_event`` (what ``dpledger inbox replay`` and
``inbox.replay`` run for each event), here in the request's transaction together with
the audit entry: the event is applied (or parked again) and the entry saying who
replayed it, why and what came of it commit together or not at all. ``inbox.replay``
opens transactions of its own, which on SQLite would wait for the request's own
``BEGIN IMMEDIATE`` to end.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from adapters import inbox
from adapters.inbox import Delivered
from adapters.models import UNAPPLIED
from adapters.repositories import inbox as inbox_repo
from ledger.clock import Clock
from ledger.errors import DomainError, UnknownRecord
from monitoring.audit import record_action, require_officer, require_reason


class NothingToReplay(DomainError):
    code = "nothing_to_replay"
    title = "There is nothing to replay"
    http_status = 409


def replay_inbox_event(
    session: Session, clock: Clock, event_id: int, *, officer: str, reason: str
) -> Delivered:
    """Apply a parked (or received but never applied) event again, once: an event
    already applied, ignored or found a duplicate is refused and nothing changes.
    Flushes; the caller commits."""
    officer, reason = require_officer(officer), require_reason(reason)
    event = inbox_repo.lock_event(session, event_id)
    if event is None:
        raise UnknownRecord(f"there is no inbox event {event_id}")
    if event.status not in UNAPPLIED:
        raise NothingToReplay(f"event {event_id} is already {event.status.value}")
    before = {"status": event.status.value, "reason": event.reason}
    result = inbox.apply_event(session, event_id, clock)
    record_action(
        session,
        clock,
        actor=officer,
        action="inbox_event_replayed",
        subject_type="inbox_event",
        subject_id=event_id,
        reason=reason,
        before=before,
        after={"status": result.status.value, "reason": result.reason},
    )
    return result
