"""The notification outbox: written in the same transaction as what caused it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, BigId, UTCDateTime
from ledger.models.types import str_enum


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    LOGGED = "logged"  # no mail server configured: written to the log instead
    FAILED = "failed"  # gave up after the last retry


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    audience: Mapped[str] = mapped_column(String(16))  # "holder" or "officer"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(100))
    status: Mapped[NotificationStatus] = mapped_column(str_enum(NotificationStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
