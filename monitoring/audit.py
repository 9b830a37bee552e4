"""Writing the audit log: every officer action records who, when, why and what changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.errors import InvalidRecord
from monitoring.models import AuditEntry


def require_reason(reason: str | None) -> str:
    """Every officer action needs a reason."""
    if reason is None or not reason.strip():
        raise InvalidRecord("a reason is required for this action")
    return reason.strip()


def require_officer(officer: str | None) -> str:
    if officer is None or not officer.strip():
        raise InvalidRecord("the officer taking this action must be named")
    return officer.strip()


def record_action(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int,
    reason: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        before=before or {},
        after=after or {},
    )
    session.add(entry)
    session.flush()
    return entry
