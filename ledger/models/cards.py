"""Prepaid cards and the companion pots that companion cards draw on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime
from ledger.models.types import str_enum


class CardKind(StrEnum):
    PRIMARY = "primary"
    CARER = "carer"
    COMPANION = "companion"


class CardStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class CompanionPot(Base):
    """Money earmarked inside a cared-for person's budget for one companion.

    The pot is a ledger account of its own, funded by pot allocations from the person's
    personal budget account, so a companion can never spend beyond it.
    """

    __tablename__ = "companion_pots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    cared_for_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    companion_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    budget_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Card(Base):
    """A prepaid card. Only the last four digits are ever stored."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("provider", "provider_card_token"),
        CheckConstraint("length(last4) = 4", name="last4_length"),
        CheckConstraint("(kind = 'companion') = (pot_id IS NOT NULL)", name="companion_has_pot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CardKind] = mapped_column(str_enum(CardKind))
    status: Mapped[CardStatus] = mapped_column(str_enum(CardStatus))
    holder_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    pot_id: Mapped[int | None] = mapped_column(ForeignKey("companion_pots.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_card_token: Mapped[str] = mapped_column(String(128))
    last4: Mapped[str] = mapped_column(String(4))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
