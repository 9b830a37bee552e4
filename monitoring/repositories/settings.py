"""Queries on council settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitoring.models import CouncilSetting


def stored_values(session: Session) -> list[tuple[str, Any]]:
    rows = session.execute(select(CouncilSetting.key, CouncilSetting.value)).all()
    return [(key, value) for key, value in rows]


def changed_since(session: Session, keys: Sequence[str], since: datetime) -> bool:
    """Whether any of these settings was set at or after ``since``."""
    return (
        session.execute(
            select(CouncilSetting.key).where(
                CouncilSetting.key.in_(list(keys)), CouncilSetting.updated_at >= since
            )
        ).first()
        is not None
    )
