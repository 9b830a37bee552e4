"""Records about a person that monitoring keeps: life events, safeguarding concerns,
review requests, and whether they need an independent advocate for a decision."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime
from ledger.models.types import str_enum


class LifeEventKind(StrEnum):
    HOSPITAL_STAY = "hospital_stay"  # admission on starts_on, discharge on ends_on
    RESPITE = "respite"
    DEATH = "death"


class LifeEvent(Base):
    """Something in a person's life that changes what their spending means.

    A stay with no ``ends_on`` is still going on."""

    __tablename__ = "life_events"
    __table_args__ = (Index("ix_life_events_person_kind", "person_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[LifeEventKind] = mapped_column(str_enum(LifeEventKind))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SafeguardingStatus(StrEnum):
    RAISED = "raised"
    ENQUIRY = "enquiry"  # a Care Act s42 enquiry is under way
    CLOSED = "closed"


class SafeguardingRecord(Base):
    """A safeguarding concern: restricted, kept apart from finance records. Read it only
    through ``monitoring.safeguarding``, which checks the role and logs every view."""

    __tablename__ = "safeguarding_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("flags.id"))
    concern: Mapped[str] = mapped_column(Text)
    status: Mapped[SafeguardingStatus] = mapped_column(str_enum(SafeguardingStatus))
    raised_by: Mapped[str] = mapped_column(String(120))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewStatus(StrEnum):
    REQUESTED = "requested"
    DECIDED = "decided"
    CANCELLED = "cancelled"


class ReviewRequest(Base):
    """An unplanned review of a plan, asked for by an officer (often from a flag)."""

    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("flags.id"))
    reason: Mapped[str] = mapped_column(Text)
    due_by: Mapped[date]
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus))
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AdvocacyNeed(Base):
    """Whether a person needs an independent advocate for one decision (Care Act s67):
    substantial difficulty in being involved and no appropriate person to help."""

    __tablename__ = "advocacy_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    decision: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "clawback:12"
    substantial_difficulty: Mapped[bool]
    appropriate_person: Mapped[bool]
    advocate_name: Mapped[str | None] = mapped_column(String(200))
    advocate_appointed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def needs_advocate(self) -> bool:
        return self.substantial_difficulty and not self.appropriate_person
