"""Queries on council settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitoring.models import CouncilSetting


def stored_values(session: Session) -> list[tuple[str, Any]]:
    rows = session.execute(select(CouncilSetting.key, CouncilSetting.value)).all()
    return [(key, value) for key, value in rows]
