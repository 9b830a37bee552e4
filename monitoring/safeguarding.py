"""The restricted safeguarding record: only officers with the safeguarding role may read
it, and every view is logged (UK GDPR, Caldicott: need-to-know, every access
accountable)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import Clock
from monitoring.audit import record_action, require_officer, require_reason
from monitoring.errors import NotPermitted
from monitoring.models import SafeguardingRecord

ROLE = "safeguarding"


def records_for(
    session: Session,
    clock: Clock,
    person_id: int,
    *,
    officer: str,
    roles: Collection[str],
    reason: str,
) -> Sequence[SafeguardingRecord]:
    officer, reason = require_officer(officer), require_reason(reason)
    if ROLE not in roles:
        raise NotPermitted("only safeguarding officers may read safeguarding records")
    records = (
        session.execute(
            select(SafeguardingRecord)
            .where(SafeguardingRecord.person_id == person_id)
            .order_by(SafeguardingRecord.id)
        )
        .scalars()
        .all()
    )
    record_action(
        session,
        clock,
        actor=officer,
        action="safeguarding_viewed",
        subject_type="person",
        subject_id=person_id,
        reason=reason,
        after={"records": [r.id for r in records]},
    )
    return records
