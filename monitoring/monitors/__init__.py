"""The monitor catalogue (``docs/monitors.md`` lists each rule, threshold and source)."""

from __future__ import annotations

from ledger.errors import UnknownRecord
from monitoring.monitors.arrears import ArrearsMonitor
from monitoring.monitors.base import Monitor
from monitoring.monitors.cash_beyond_share import CashBeyondShareMonitor
from monitoring.monitors.companion_share import CompanionShareMonitor
from monitoring.monitors.employer_duties import EmployerDutiesMonitor
from monitoring.monitors.household_payee import HouseholdPayeeMonitor
from monitoring.monitors.life_event_spend import LifeEventSpendMonitor
from monitoring.monitors.missed_contribution import MissedContributionMonitor
from monitoring.monitors.pattern_change import PatternChangeMonitor
from monitoring.monitors.rapid_drain import RapidDrainMonitor
from monitoring.monitors.reconciliation_break import ReconciliationBreakMonitor
from monitoring.monitors.review_due import ReviewDueMonitor
from monitoring.monitors.spend_outside_plan import SpendOutsidePlanMonitor
from monitoring.monitors.surplus import SurplusMonitor
from monitoring.monitors.under_spend import UnderSpendMonitor
from monitoring.monitors.unusual_hours_cash import UnusualHoursCashMonitor

ALL_MONITORS: tuple[Monitor, ...] = (
    SpendOutsidePlanMonitor(),
    CashBeyondShareMonitor(),
    MissedContributionMonitor(),
    SurplusMonitor(),
    UnderSpendMonitor(),
    RapidDrainMonitor(),
    LifeEventSpendMonitor(),
    HouseholdPayeeMonitor(),
    PatternChangeMonitor(),
    CompanionShareMonitor(),
    UnusualHoursCashMonitor(),
    EmployerDutiesMonitor(),
    ReviewDueMonitor(),
    ReconciliationBreakMonitor(),
    ArrearsMonitor(),
)


def by_name(name: str) -> Monitor:
    for monitor in ALL_MONITORS:
        if monitor.name == name:
            return monitor
    known = ", ".join(m.name for m in ALL_MONITORS)
    raise UnknownRecord(f"there is no monitor called {name!r} (there are: {known})")
