"""Hold expiry: holds never settled are released after a configurable age (7 days by
default, 31 for hotels and car hire, whose authorisations stay valid longer)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ledger import settings as ledger_settings
from ledger.card_payments import CardPayments
from ledger.clock import Clock
from monitoring.repositories import scheduling as repo
from monitoring.settings import MonitoringSettings, load_settings

SOURCE = "scheduler"


def expire_old_holds(
    session: Session, clock: Clock, *, settings: MonitoringSettings | None = None, limit: int = 1000
) -> list[int]:
    """Release up to ``limit`` holds past their age; returns their ids. Each release is
    keyed ``hold-expiry:<hold>``, so a re-run releases nothing twice."""
    settings = settings or load_settings(session)
    now = clock.now()
    holds = repo.expired_holds(
        session,
        now - timedelta(days=settings.hold_expiry_days),
        now - timedelta(days=settings.hold_expiry_days_hotel_car_hire),
        limit,
    )
    payments = CardPayments(session, clock, ledger_settings.from_environment())
    for hold_id in holds:
        payments.expire_hold(hold_id, source=SOURCE, key=f"hold-expiry:{hold_id}")
    return holds
