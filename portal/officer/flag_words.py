"""Flags in words: the labels officers read for monitors, severities, statuses, dismiss
reasons, suggested actions, history entries and the monitors' figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.money import format_pence
from monitoring.models import (
    DismissReason,
    Disposition,
    FlagHistory,
    FlagStatus,
    Severity,
    SuggestedAction,
)
from monitoring.monitors import ALL_MONITORS
from portal.formatting import london_date

MONITOR_TITLES: dict[str, str] = {m.name: m.title for m in ALL_MONITORS}


def monitor_title(name: str) -> str:
    """A monitor's plain name ("Spend outside the plan"), or its code name if unknown."""
    return MONITOR_TITLES.get(name, name.replace("_", " ").capitalize())


# What the monitors' figures mean: (label, kind). Money is in pence.
FIGURES: dict[str, tuple[str, str]] = {
    "amount": ("Amount", "money"),
    "owed": ("Owed", "money"),
    "cash": ("Cash withdrawn", "money"),
    "allowance": ("Allowance", "money"),
    "companion_spend": ("Spent on companion cards", "money"),
    "all_spend": ("All spending", "money"),
    "expected": ("Contribution expected", "money"),
    "received": ("Contribution received", "money"),
    "spent": ("Spent", "money"),
    "usual": ("Usual spending", "money"),
    "loaded": ("Loaded", "money"),
    "drained": ("Spent or withdrawn after the load", "money"),
    "provider_balance": ("Card provider's balance", "money"),
    "ledger_balance": ("Ledger balance", "money"),
    "difference": ("Difference", "money"),
    "total": ("Total", "money"),
    "budget": ("Budget", "money"),
    "budget_balance": ("Budget balance", "money"),
    "companion_pots": ("In companion pots", "money"),
    "open_holds": ("Payments waiting to settle", "money"),
    "committed_regular_payments": ("Regular payments expected again", "money"),
    "contingency": ("Contingency", "money"),
    "amount_kept": ("Amount kept", "money"),
    "surplus": ("Surplus", "money"),
    "recoverable_from_budget": ("Recoverable from the budget", "money"),
    "proposed_clawback": ("Proposed clawback", "money"),
    "from": ("From", "date"),
    "admitted_on": ("Admitted to hospital", "date"),
    "review_date": ("Review date", "date"),
    "period_index": ("Plan period", "period"),
    "tolerance_percent": ("Tolerance", "percent"),
    "payments": ("Payments", "number"),
    "consecutive": ("Periods short in a row", "number"),
    "days": ("Days", "number"),
    "days_late": ("Days late", "number"),
    "hours": ("Hours", "number"),
    "weeks_of_budget_kept": ("Weeks of budget kept", "number"),
    "no_spend_weeks": ("Weeks without spending", "number"),
    "withdrawals": ("Withdrawals", "number"),
    "review_request_id": ("Review request", "number"),
    "mcc": ("Merchant category code", "text"),
    "payee": ("Payee", "text"),
}


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


def figures_of(figures: dict[str, Any]) -> list[Figure]:
    """A monitor's figures in words, in the order the monitor gave them."""
    out = []
    for key, value in figures.items():
        label, kind = FIGURES.get(key, (key.replace("_", " ").capitalize(), "text"))
        out.append(Figure(label, _figure_value(value, kind)))
    return out


def _figure_value(value: Any, kind: str) -> str:
    if value is None:
        return "None"
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_pence(value)
    if kind == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.day} {day:%B %Y}"
    if kind == "period" and isinstance(value, int):
        return f"Period {value + 1}"
    if kind == "percent":
        return f"{value}%"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


SEVERITY_LABELS = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
}
STATUS_LABELS = {
    FlagStatus.OPEN: "Open",
    FlagStatus.IN_REVIEW: "In review",
    FlagStatus.ACTIONED: "Actioned",
    FlagStatus.DISMISSED: "Dismissed",
    FlagStatus.ESCALATED_TO_SAFEGUARDING: "Escalated to safeguarding",
}
DISMISS_REASON_LABELS = {
    DismissReason.EXPLAINED_BY_HOLDER: "The holder explained it",
    DismissReason.AGREED_IN_PLAN: "It is agreed in the plan",
    DismissReason.PROVIDER_OR_DATA_ERROR: "A card provider or data error",
    DismissReason.DUPLICATE: "A duplicate of another flag",
    DismissReason.BELOW_MATERIALITY: "Too small to matter",
    DismissReason.OTHER: "Another reason",
}
SUGGESTED_ACTION_LABELS = {
    SuggestedAction.CHECK: "Check what happened",
    SuggestedAction.CONTACT_HOLDER: "Contact the holder",
    SuggestedAction.REVIEW: "Arrange a review with the person (not a recovery)",
    SuggestedAction.CLAWBACK: "Consider recovering the surplus",
    SuggestedAction.SUSPEND: "Consider suspending the card",
    SuggestedAction.SAFEGUARDING: "Consider raising a safeguarding concern",
}
DISPOSITION_LABELS = {
    Disposition.CONFIRMED: "Confirmed",
    Disposition.NOT_CONFIRMED: "Not confirmed",
    Disposition.DUPLICATE: "Duplicate",
}
HISTORY_ACTIONS = {
    "raised": "Raised",
    "evidence_added": "New evidence",
    "assigned": "Assigned",
    "review_started": "Review started",
    "snoozed": "Snoozed",
    "unsnoozed": "Snooze ended",
    "note_added": "Note added",
    "dismissed": "Dismissed",
    "actioned": "Marked as actioned",
    "escalated_to_safeguarding": "Escalated to safeguarding",
    "card_suspend": "Card suspended",
    "card_unsuspend": "Card unsuspended",
    "review_requested": "Review requested",
}
_TRACKED_LABELS = {
    "status": "Status",
    "severity": "Severity",
    "assignee": "Assigned to",
    "snoozed_until": "Snoozed until",
    "snooze_reason": "Snooze reason",
    "disposition": "Outcome",
}


def history_action(action: str) -> str:
    return HISTORY_ACTIONS.get(action, action.replace("_", " ").capitalize())


def history_changes(entry: FlagHistory) -> list[str]:
    """What a history entry changed: "Status: Open to In review". A flag's first entry
    says what it was raised as."""
    out = []
    # In a fixed order: the history's JSON keeps them in no particular one.
    order = list(_TRACKED_LABELS)
    for key in sorted(entry.after, key=lambda k: (order.index(k) if k in order else len(order), k)):
        after = entry.after[key]
        label = _TRACKED_LABELS.get(key, key.replace("_", " ").capitalize())
        if not entry.before:
            if after is not None:
                out.append(f"{label}: {_tracked(key, after)}")
            continue
        out.append(f"{label}: {_tracked(key, entry.before.get(key))} to {_tracked(key, after)}")
    return out


def _tracked(key: str, value: Any) -> str:
    if value is None:
        return "none"
    labels: dict[str, dict[Any, str]] = {
        "status": {s.value: label for s, label in STATUS_LABELS.items()},
        "severity": {s.value: label for s, label in SEVERITY_LABELS.items()},
        "disposition": {d.value: label for d, label in DISPOSITION_LABELS.items()},
    }
    if key in labels:
        return labels[key].get(value, str(value))
    if key == "snoozed_until" and isinstance(value, str):
        try:
            return london_date(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)
