"""The scheduler's lease, per-job run locks, and scheduled loads (once per plan and date)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime
from ledger.models.types import str_enum


class SchedulerLease(Base):
    """Who may run scheduled jobs: one holder at a time, until ``expires_at``.

    The holder renews it every few seconds; another scheduler takes it over once it has
    expired. ``term`` grows on every change of holder (a fencing token).
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    term: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobLock(Base):
    """A job runs at most once at a time across every scheduler process."""

    __tablename__ = "job_locks"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_by: Mapped[str | None] = mapped_column(String(120))  # who started the last run
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)


class ScheduledLoadStatus(StrEnum):
    LOADED = "loaded"
    PAUSED = "paused"  # the card is suspended; loaded when it is unsuspended
    SKIPPED = "skipped"  # nothing to load (the contribution covers the budget)
    PERSON_DIED = "person_died"  # the person died on or before the due date: never loaded
    FAILED = "failed"  # the load could not be made (``detail`` says why); tried again


class ScheduledLoadRun(Base):
    """One scheduled load of one plan for one period: made exactly once."""

    __tablename__ = "scheduled_load_runs"
    __table_args__ = (UniqueConstraint("plan_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    due_on: Mapped[date]  # the council's date for the period
    load_on: Mapped[date]  # moved earlier off weekends and bank holidays
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ScheduledLoadStatus] = mapped_column(str_enum(ScheduledLoadStatus))
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The provider is told after the load is committed; until then (a crash, a failure
    # raised by the provider's client) ``provider_told_at`` is empty and the next run
    # tells it, under the same key. A refusal is the command record's to retry.
    provider_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_command_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(Text)
