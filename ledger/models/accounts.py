"""Ledger accounts with their four running totals, the chain head, and card decisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, BigId, UTCDateTime
from ledger.models.transfers import TransferCode
from ledger.models.types import str_enum


class AccountKind(StrEnum):
    COUNCIL_FUNDING = "council_funding"
    PERSONAL_BUDGET = "personal_budget"
    COMPANION_POT = "companion_pot"
    MERCHANT_SPEND_CLEARING = "merchant_spend_clearing"
    BANK_PAYMENTS_CLEARING = "bank_payments_clearing"
    CONTRIBUTIONS_CLEARING = "contributions_clearing"
    RECOVERIES = "recoveries"
    FEES = "fees"
    ARREARS = "arrears"


class Account(Base):
    """A ledger account.

    Invariants (kept by the database as well as by the service):
    - totals only grow, except pending debits which fall when a hold resolves;
    - a no-overdraft account never has posted plus pending debits above posted credits.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 "
            "AND credits_pending >= 0 AND credits_posted >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint(
            "NOT no_overdraft OR debits_posted + debits_pending <= credits_posted",
            name="no_overdraft",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # One account per kind for the council's own accounts; NULL for people's accounts.
    system_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # The personal budget an arrears account or a companion pot belongs to.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    no_overdraft: Mapped[bool]
    closed: Mapped[bool] = mapped_column(default=False)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def posted_balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available_balance(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


class LedgerHead(Base):
    """The head of the transfer hash chain: one row, locked by every posting.

    Holding it serialises postings, which is what makes transfer ids gap-free and in
    commit order, so the chain can be verified by walking ids.
    """

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_transfer_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuthorisationDecision(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


class Authorisation(Base):
    """A real-time decision on a card payment: approved with a hold, or declined.

    Recorded under its idempotency key so a retried request gets the same answer.
    """

    __tablename__ = "authorisations"
    __table_args__ = (UniqueConstraint("idempotency_source", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_source: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[TransferCode] = mapped_column(str_enum(TransferCode))
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    mcc: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[AuthorisationDecision] = mapped_column(str_enum(AuthorisationDecision))
    decline_reason: Mapped[str | None] = mapped_column(String(64))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
