"""People with care needs, carers, and who cares for whom."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime


class Person(Base):
    """A cared-for person or a carer (a carer may have their own support plan)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_reference: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None]
    date_of_death: Mapped[date | None]
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaringRelationship(Base):
    """A carer caring for a person; whether they share a household matters to monitoring."""

    __tablename__ = "caring_relationships"
    __table_args__ = (
        UniqueConstraint("carer_id", "cared_for_id"),
        CheckConstraint("carer_id <> cared_for_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    cared_for_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(60))
    shares_household: Mapped[bool]
