"""Reconciliation breaks: where the provider's balance and the ledger's disagree."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, UTCDateTime


class ReconciliationBreak(Base):
    """A card's closing balance from the provider that differs from the ledger's.

    Recorded by whoever reconciles (the statement-file import, a provider balance check);
    monitoring turns open breaks into flags.
    """

    __tablename__ = "reconciliation_breaks"
    __table_args__ = (UniqueConstraint("source", "card_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    as_of: Mapped[date]
    provider_balance: Mapped[int] = mapped_column(BigInteger)
    ledger_balance: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(String(500))
    # A later file or balance check that agrees with the ledger resolves the break.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(500))

    @property
    def difference(self) -> int:
        return self.provider_balance - self.ledger_balance
