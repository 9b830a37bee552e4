"""Flags: what a monitor found that an officer should look at, with evidence and history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, BigId, UTCDateTime
from ledger.models.types import str_enum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class FlagStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"
    ESCALATED_TO_SAFEGUARDING = "escalated_to_safeguarding"

    @property
    def is_open(self) -> bool:
        return self in (FlagStatus.OPEN, FlagStatus.IN_REVIEW)


class DismissReason(StrEnum):
    """Why an officer closed a flag without action (a fixed list, plus free text)."""

    EXPLAINED_BY_HOLDER = "explained_by_holder"
    AGREED_IN_PLAN = "agreed_in_plan"
    PROVIDER_OR_DATA_ERROR = "provider_or_data_error"
    DUPLICATE = "duplicate"
    BELOW_MATERIALITY = "below_materiality"
    OTHER = "other"


class Disposition(StrEnum):
    """How a closed flag turned out, so each monitor's precision can be reported."""

    CONFIRMED = "confirmed"  # actioned or escalated: the monitor was right
    NOT_CONFIRMED = "not_confirmed"  # dismissed: nothing wrong
    DUPLICATE = "duplicate"  # left out of precision


class SuggestedAction(StrEnum):
    """Where a flag is routed: under-spend goes to a review, never to recovery."""

    CHECK = "check"
    CONTACT_HOLDER = "contact_holder"
    REVIEW = "review"
    CLAWBACK = "clawback"
    SUSPEND = "suspend"
    SAFEGUARDING = "safeguarding"


# A partial index over open flags only (a small part of all flags once years have closed).
_OPEN_ONLY: dict[str, Any] = {
    "postgresql_where": text("open_key IS NOT NULL"),
    "sqlite_where": text("open_key IS NOT NULL"),
}


class Flag(Base):
    """One flag per subject and rule while it is open (``open_key`` is unique and set only
    while open, which works as a partial unique index on SQLite and PostgreSQL alike)."""

    __tablename__ = "flags"
    __table_args__ = (
        Index("ix_flags_status_severity", "status", "severity"),
        Index("ix_flags_subject", "subject_type", "subject_id"),
        # The officers' queue reads each page from one of these in order (see
        # portal/repositories/flag_queue.py): open flags (open_key set) by SLA due, within
        # a severity, monitor or assignee, and by when raised; any one status likewise,
        # and within a status an assignee's or a monitor's.
        Index("ix_flags_open_sla", "sla_due_at", "id", **_OPEN_ONLY),
        Index("ix_flags_open_severity_sla", "severity", "sla_due_at", "id", **_OPEN_ONLY),
        Index("ix_flags_open_monitor_sla", "monitor", "sla_due_at", "id", **_OPEN_ONLY),
        Index("ix_flags_open_assignee_sla", "assignee", "sla_due_at", "id", **_OPEN_ONLY),
        Index("ix_flags_open_raised", "raised_at", "id", **_OPEN_ONLY),
        Index("ix_flags_status_sla", "status", "sla_due_at", "id"),
        Index("ix_flags_status_raised", "status", "raised_at", "id"),
        Index("ix_flags_status_assignee_sla", "status", "assignee", "sla_due_at", "id"),
        Index("ix_flags_status_monitor_sla", "status", "monitor", "sla_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus))
    title: Mapped[str] = mapped_column(String(200))
    explanation: Mapped[str] = mapped_column(Text)
    suggested_action: Mapped[SuggestedAction] = mapped_column(str_enum(SuggestedAction))
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Officers are named by their sign-in email: up to 254 characters.
    assignee: Mapped[str | None] = mapped_column(String(254))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snooze_reason: Mapped[str | None] = mapped_column(String(500))
    hits: Mapped[int] = mapped_column(default=1)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(254))
    disposition: Mapped[Disposition | None] = mapped_column(str_enum(Disposition))
    dismiss_reason: Mapped[DismissReason | None] = mapped_column(str_enum(DismissReason))
    dismiss_detail: Mapped[str | None] = mapped_column(Text)


class FlagEvidence(Base):
    """One hit behind a flag. ``dedupe_key`` (rule, subject, evidence key) is unique for
    ever, so a re-run, or a run after the flag was closed, raises nothing new."""

    __tablename__ = "flag_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    explanation: Mapped[str] = mapped_column(Text)
    transfer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan_line_id: Mapped[int | None] = mapped_column(ForeignKey("plan_lines.id"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FlagHistory(Base):
    """Append-only: who did what to a flag, when, and what it changed."""

    __tablename__ = "flag_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(254))  # an officer's sign-in email, or "monitor"
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FlagNote(Base):
    __tablename__ = "flag_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)


__all__ = [
    "DismissReason",
    "Disposition",
    "Flag",
    "FlagEvidence",
    "FlagHistory",
    "FlagNote",
    "FlagStatus",
    "Severity",
    "SuggestedAction",
]
