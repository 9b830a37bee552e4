"""Council settings for monitoring: thresholds with defaults, overridden per council.

Every default and its source is listed in ``docs/monitors.md``. A council changes one
with ``set_setting`` (audited); ``load_settings`` reads the current values.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ledger.categories import COUNCIL_BLOCKABLE
from ledger.clock import Clock
from ledger.errors import InvalidRecord
from monitoring.audit import record_action
from monitoring.models import CouncilSetting, Severity
from monitoring.repositories import settings as settings_repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitoringSettings:
    # Spend outside the plan
    blocked_categories: tuple[str, ...] = ("gambling", "alcohol", "tobacco")
    line_allowance_tolerance_percent: int = 10
    # Cash
    cash_tolerance_pence: int = 0
    # Client contributions
    loads_net_of_contribution: bool = True
    contribution_grace_days: int = 14
    # Surplus
    surplus_weeks: int = 8
    contingency_weeks: int = 2
    # Under-spend
    under_spend_percent: int = 50
    under_spend_periods: int = 2
    no_spend_weeks: int = 4
    # Possible financial abuse
    rapid_drain_percent: int = 80
    rapid_drain_hours: int = 48
    hospital_spend_grace_days: int = 14
    pattern_change_factor: int = 3
    pattern_change_history_periods: int = 3
    pattern_change_min_pence: int = 20000
    companion_share_percent: int = 50
    companion_share_min_pence: int = 10000
    unusual_hours_start: int = 0
    unusual_hours_end: int = 5
    unusual_hours_cash_count: int = 3
    unusual_hours_window_days: int = 28
    # Employer duties
    paye_interval_days: int = 92
    paye_grace_days: int = 22
    el_insurance_interval_days: int = 366
    el_insurance_grace_days: int = 30
    # Reviews
    review_due_soon_days: int = 28
    review_overdue_high_days: int = 90
    # Reconciliation
    reconciliation_high_pence: int = 10000
    # Triage: hours to act, by severity
    sla_hours: dict[str, int] = field(
        default_factory=lambda: {"critical": 24, "high": 72, "medium": 240, "low": 480}
    )
    # Clawback
    clawback_second_approval_above_pence: int = 100000
    clawback_response_days: int = 14
    # Scheduled loads and holds
    load_anchor_date: date | None = None
    hold_expiry_days: int = 7
    hold_expiry_days_hotel_car_hire: int = 31
    # Who officers' notifications go to (the monitoring team's inbox)
    officer_email: str | None = None


_FIELDS = {f.name: f for f in dataclasses.fields(MonitoringSettings)}

# Whole-number settings: (least, most) a council may set. Outside these a monitor would
# flag everything, nothing, or divide by zero.
_RANGES: dict[str, tuple[int, int | None]] = {
    "line_allowance_tolerance_percent": (0, 1000),
    "cash_tolerance_pence": (0, None),
    "contribution_grace_days": (0, 90),
    "surplus_weeks": (1, 52),
    "contingency_weeks": (0, 52),
    "under_spend_percent": (1, 100),
    "under_spend_periods": (1, 26),
    "no_spend_weeks": (1, 52),
    "rapid_drain_percent": (1, 100),
    "rapid_drain_hours": (1, 24 * 14),
    "hospital_spend_grace_days": (0, 365),
    "pattern_change_factor": (2, 100),
    "pattern_change_history_periods": (1, 26),
    "pattern_change_min_pence": (0, None),
    "companion_share_percent": (1, 100),
    "companion_share_min_pence": (0, None),
    "unusual_hours_start": (0, 23),
    "unusual_hours_end": (0, 23),
    "unusual_hours_cash_count": (2, 100),
    "unusual_hours_window_days": (1, 366),
    "paye_interval_days": (1, 366),
    "paye_grace_days": (0, 366),
    "el_insurance_interval_days": (1, 731),
    "el_insurance_grace_days": (0, 366),
    "review_due_soon_days": (0, 366),
    "review_overdue_high_days": (1, 3660),
    "reconciliation_high_pence": (1, None),
    "clawback_second_approval_above_pence": (0, None),
    "clawback_response_days": (1, 90),
    "hold_expiry_days": (1, 60),
    "hold_expiry_days_hotel_car_hire": (1, 60),
}


def blockable_categories() -> tuple[str, ...]:
    """What ``blocked_categories`` may name (``ledger.categories.COUNCIL_BLOCKABLE``): the
    categories the MCC map gives, and quasi-cash, which real-time decisions block."""
    return COUNCIL_BLOCKABLE


def load_settings(session: Session) -> MonitoringSettings:
    """The defaults, with the council's stored values in place of any it has set. A stored
    value no longer allowed (set before it was checked) is ignored, with a warning, so
    the monitors keep running on the default."""
    overrides = {}
    for key, value in settings_repo.stored_values(session):
        try:
            overrides[key] = _checked(key, _parse(key, value))
        except InvalidRecord as error:
            log.warning("council setting %s ignored, default used: %s", key, error.detail)
    settings = dataclasses.replace(MonitoringSettings(), **overrides)
    try:
        _check_together(settings)
    except InvalidRecord as error:
        log.warning("unusual-hours settings ignored, defaults used: %s", error.detail)
        default = MonitoringSettings()
        settings = dataclasses.replace(
            settings,
            unusual_hours_start=default.unusual_hours_start,
            unusual_hours_end=default.unusual_hours_end,
        )
    return settings


def set_setting(
    session: Session, clock: Clock, key: str, value: Any, *, officer: str, reason: str
) -> MonitoringSettings:
    """Change one setting for the council; audited. Raises ``InvalidRecord`` (saying what
    is allowed) for an unknown key, a value of the wrong type, or one outside what the
    monitors can work with."""
    parsed = _checked(key, _parse(key, value))
    _check_together(dataclasses.replace(load_settings(session), **{key: parsed}))
    stored = value.isoformat() if isinstance(parsed, date) else value
    if isinstance(parsed, tuple):
        stored = list(parsed)
    row = session.get(CouncilSetting, key)
    before = {"value": row.value} if row is not None else {}
    if row is None:
        row = CouncilSetting(key=key, value=stored, updated_by=officer, updated_at=clock.now())
        session.add(row)
    else:
        row.value, row.updated_by, row.updated_at = stored, officer, clock.now()
    session.flush()
    record_action(
        session,
        clock,
        actor=officer,
        action="setting_changed",
        subject_type="council_setting",
        subject_id=0,
        reason=reason,
        before={"key": key, **before},
        after={"key": key, "value": stored},
    )
    return load_settings(session)


def _parse(key: str, value: Any) -> Any:
    spec = _FIELDS.get(key)
    if spec is None:
        raise InvalidRecord(f"{key!r} is not a monitoring setting")
    default = (
        spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
    )
    if key == "load_anchor_date":
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidRecord(f"{key} must be a date (YYYY-MM-DD)") from None
    if key == "officer_email":
        if value is None or isinstance(value, str):
            return value
        raise InvalidRecord(f"{key} must be an email address")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InvalidRecord(f"{key} must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRecord(f"{key} must be a whole number, zero or more")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise InvalidRecord(f"{key} must be a list of names")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(
            isinstance(v, int) and v > 0 for v in value.values()
        ):
            raise InvalidRecord(f"{key} must map severities to hours")
        return {**default, **value}
    raise InvalidRecord(f"{key} cannot be set")  # pragma: no cover


def _checked(key: str, value: Any) -> Any:
    """``value`` if it is one the monitors can work with, else ``InvalidRecord``."""
    if key in _RANGES:
        least, most = _RANGES[key]
        if value < least or (most is not None and value > most):
            allowed = f"from {least} to {most}" if most is not None else f"{least} or more"
            raise InvalidRecord(f"{key} must be {allowed}, not {value}")
    if key == "blocked_categories":
        blockable = blockable_categories()
        unknown = [name for name in value if name not in blockable]
        if unknown:
            raise InvalidRecord(
                f"blocked_categories: {', '.join(unknown)} is not a spend category; "
                f"choose from {', '.join(blockable)}"
            )
    if key == "sla_hours":
        severities = {s.value for s in Severity}
        unknown = sorted(set(value) - severities)
        if unknown:
            raise InvalidRecord(
                f"sla_hours: {', '.join(unknown)} is not a severity; "
                f"use {', '.join(sorted(severities))}"
            )
    if key == "officer_email" and value is not None and "@" not in value:
        raise InvalidRecord("officer_email must be an email address")
    return value


def _check_together(settings: MonitoringSettings) -> None:
    if settings.unusual_hours_start == settings.unusual_hours_end:
        raise InvalidRecord(
            "the unusual hours must start and end at different hours (a window past "
            "midnight, such as 22 to 5, is allowed)"
        )
