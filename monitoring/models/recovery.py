"""Clawback proposals and emergency loads: the money decisions officers make."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime
from ledger.models.types import str_enum


class ClawbackStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"  # and the holder's notice queued: not yet known to be sent
    HOLDER_NOTIFIED = "holder_notified"  # the notice was emailed, or a letter sent
    EXECUTED = "executed"
    CANCELLED = "cancelled"


class ClawbackProposal(Base):
    """Recovery of surplus: proposed, approved (by a second officer above a threshold),
    the holder told and given time to respond, then executed exactly once."""

    __tablename__ = "clawback_proposals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("flags.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    calculated_amount: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ClawbackStatus] = mapped_column(str_enum(ClawbackStatus))
    # Set while the proposal is live (not executed or cancelled): one per budget at a time.
    live_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    needs_second_approval: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the holder's notice was sent (email delivered to the mail server, or the date
    # an officer recorded a letter was posted), how, and the response window from then.
    holder_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    holder_notified_how: Mapped[str | None] = mapped_column(String(16))  # "email", "letter"
    respond_by: Mapped[date | None]
    holder_response: Mapped[str | None] = mapped_column(Text)
    executed_by: Mapped[str | None] = mapped_column(String(120))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    provider_command_id: Mapped[int | None] = mapped_column(BigInteger)
    provider_outcome: Mapped[str | None] = mapped_column(String(500))


class EmergencyLoad(Base):
    """Urgent or interim support loaded at once, recorded with what it is for."""

    __tablename__ = "emergency_loads"
    __table_args__ = (CheckConstraint("council_amount > 0", name="council_amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    budget_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "urgent" or "interim"
    purpose: Mapped[str] = mapped_column(Text)
    council_amount: Mapped[int] = mapped_column(BigInteger)
    person_amount: Mapped[int] = mapped_column(BigInteger)
    duration_days: Mapped[int]
    review_how: Mapped[str] = mapped_column(Text)
    review_on: Mapped[date]
    outcome_aimed_at: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    transfer_id: Mapped[int] = mapped_column(BigInteger)
