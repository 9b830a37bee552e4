"""Monitor watermarks, the run log, and the period totals monitors keep incrementally."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, BigId, UTCDateTime


class MonitorWatermark(Base):
    """How far a monitor (or the shared period totals) has looked.

    Transfer ids are gap-free and in commit order, so "every transfer with an id above
    ``last_transfer_id``" is exactly what is new since the last run.
    """

    __tablename__ = "monitor_watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_transfer_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # For monitors fed by other records (reconciliation breaks): the last record seen.
    last_record_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MonitorRun(Base):
    """One run of one monitor: when, over what, what it raised."""

    __tablename__ = "monitor_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    monitor: Mapped[str] = mapped_column(String(64), index=True)
    runner: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_transfer_id: Mapped[int] = mapped_column(BigInteger)
    to_transfer_id: Mapped[int] = mapped_column(BigInteger)
    since: Mapped[str | None] = mapped_column(String(10))
    dry_run: Mapped[bool]
    hits: Mapped[int]
    flags_raised: Mapped[int]
    evidence_added: Mapped[int]
    detail: Mapped[str | None] = mapped_column(Text)


class PlanPeriodTotal(Base):
    """What moved on a plan's budget (and its pots) in one plan period, kept by adding each
    new transfer exactly once (the ``period_totals`` watermark).

    ``updated_upto`` is the transfer watermark of the refresh that last changed the row,
    so a monitor can look only at periods that moved.
    """

    __tablename__ = "plan_period_totals"
    __table_args__ = (Index("ix_plan_period_totals_updated", "updated_upto"),)

    # No foreign keys and no surrogate id on the derived tables: they are rebuilt from the
    # transfer log, plans and lines are never deleted, and every extra index or per-row
    # key check is paid on each of the many rows a refresh writes.
    plan_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    spend: Mapped[int] = mapped_column(BigInteger)  # card spend, cash and bank payments
    spend_count: Mapped[int]
    companion_spend: Mapped[int] = mapped_column(BigInteger)
    cash: Mapped[int] = mapped_column(BigInteger)
    regular_payments: Mapped[int] = mapped_column(BigInteger)  # DD, SO, Faster Payments
    contributions: Mapped[int] = mapped_column(BigInteger)
    last_spend_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_transfer_id: Mapped[int] = mapped_column(BigInteger)
    updated_upto: Mapped[int] = mapped_column(BigInteger)


class LinePeriodTotal(Base):
    """Spend attributed to one plan line in one plan period (see ``PlanPeriodTotal``)."""

    __tablename__ = "line_period_totals"
    __table_args__ = (Index("ix_line_period_totals_updated", "updated_upto"),)

    # No foreign keys, no surrogate id: see PlanPeriodTotal.
    plan_line_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    plan_id: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    transfers: Mapped[int]
    last_transfer_id: Mapped[int] = mapped_column(BigInteger)
    updated_upto: Mapped[int] = mapped_column(BigInteger)


class UnplannedSpend(Base):
    """Card spend that no line of the plan covers, per card, plan period and spend key
    (merchant category, category, payee, merchant), found as new transfers are counted.
    ``found_upto`` is the transfer watermark of the count that found (or grew) it."""

    __tablename__ = "unplanned_spend"
    __table_args__ = (Index("ix_unplanned_spend_found_upto", "found_upto"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int]  # no foreign keys: see PlanPeriodTotal
    card_id: Mapped[int]
    period_index: Mapped[int]
    mcc: Mapped[str] = mapped_column(String(4))
    category: Mapped[str] = mapped_column(String(32))
    payee: Mapped[str] = mapped_column(String(200))
    merchant: Mapped[str] = mapped_column(String(200))
    spend_category: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    transfers: Mapped[int]
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_transfer_id: Mapped[int] = mapped_column(BigInteger)
    found_upto: Mapped[int] = mapped_column(BigInteger)
