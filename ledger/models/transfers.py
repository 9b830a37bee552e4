"""Transfers: the append-only, hash-chained log of money moving between accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Delete,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Update,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from ledger.db import Base, BigId, UTCDateTime
from ledger.errors import TransferIsImmutable
from ledger.models.types import str_enum


class TransferCode(StrEnum):
    """What a transfer is, in the council's words."""

    LOAD = "load"
    EMERGENCY_LOAD = "emergency_load"
    CONTRIBUTION = "contribution"
    CARD_SPEND = "card_spend"
    CASH_WITHDRAWAL = "cash_withdrawal"
    DIRECT_DEBIT = "direct_debit"
    STANDING_ORDER = "standing_order"
    FASTER_PAYMENT = "faster_payment"
    REFUND = "refund"
    FEE = "fee"
    CLAWBACK = "clawback"
    POT_ALLOCATION = "pot_allocation"
    POT_RELEASE = "pot_release"
    REVERSAL = "reversal"
    HOLD_VOID = "hold_void"
    HOLD_EXPIRY = "hold_expiry"
    ARREARS = "arrears"
    ARREARS_REPAYMENT = "arrears_repayment"


BANK_PAYMENT_CODES = frozenset(
    {TransferCode.DIRECT_DEBIT, TransferCode.STANDING_ORDER, TransferCode.FASTER_PAYMENT}
)


class Phase(StrEnum):
    """Where a transfer stands in the two-phase model (after TigerBeetle)."""

    POSTED = "posted"  # a single-phase transfer, posted at once
    PENDING = "pending"  # a hold: reserves the debit account's funds
    POST_PENDING = "post_pending"  # posts a hold, fully or partly
    VOID_PENDING = "void_pending"  # releases a hold (voided or expired)


class Transfer(Base):
    """One debit account, one credit account, an amount > 0. Never updated or deleted."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        UniqueConstraint("idempotency_source", "idempotency_key"),
        # Each hold resolves at most once; each transfer is reversed at most once.
        UniqueConstraint("pending_id"),
        UniqueConstraint("reverses_id"),
        Index("ix_transfers_debit_effective", "debit_account_id", "effective_at"),
        Index("ix_transfers_credit_effective", "credit_account_id", "effective_at"),
        Index("ix_transfers_card_effective", "card_id", "effective_at"),
    )

    # Assigned by the ledger under the chain-head lock: gap-free and in commit order.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[TransferCode] = mapped_column(str_enum(TransferCode))
    phase: Mapped[Phase] = mapped_column(str_enum(Phase))
    pending_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    link_group: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_source: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # What was asked for, so a replay of the key can be told from a different request.
    request_digest: Mapped[str] = mapped_column(String(64))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    mcc: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(32))
    payee: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    inbound_event_id: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str] = mapped_column(String(64))


# Transfers are written only by the posting engine and never changed: the database
# refuses UPDATE and DELETE on the table (migration 0012), and a session refuses them
# before they reach it, naming the transfer.


@event.listens_for(Session, "before_flush")
def _refuse_changed_transfers(session: Session, _context: Any, _instances: Any) -> None:
    for transfer in session.deleted:
        if isinstance(transfer, Transfer):
            raise TransferIsImmutable(f"transfer {transfer.id} cannot be deleted: reverse it")
    for transfer in session.dirty:
        if isinstance(transfer, Transfer) and session.is_modified(transfer):
            raise TransferIsImmutable(f"transfer {transfer.id} cannot be changed: reverse it")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Update | Delete) and getattr(statement.table, "name", None) == (
        Transfer.__tablename__
    ):
        raise TransferIsImmutable("transfers cannot be updated or deleted: reverse them")
