"""Monitor watermarks: locked for the length of a run, so runs of one monitor (and the
refreshes of the shared period totals) take turns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitoring.models import MonitorWatermark
from monitoring.repositories.upsert import insert_ignoring_conflict


def lock(session: Session, name: str) -> MonitorWatermark:
    """The watermark row for ``name``, created at zero the first time, locked."""
    query = (
        select(MonitorWatermark)
        .where(MonitorWatermark.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        session.execute(
            insert_ignoring_conflict(session, MonitorWatermark).values(
                name=name, last_transfer_id=0, last_record_id=0
            )
        )
        found = session.execute(query).scalar_one()
    return found


def get(session: Session, name: str) -> MonitorWatermark | None:
    return session.get(MonitorWatermark, name)
