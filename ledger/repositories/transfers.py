"""Queries on the transfer log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from ledger.models import Phase, Transfer

POSTED_PHASES = (Phase.POSTED, Phase.POST_PENDING)


def get(session: Session, transfer_id: int) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise UnknownRecord(f"transfer {transfer_id} does not exist", transfer_id=transfer_id)
    return transfer


def resolution_of(session: Session, hold_id: int) -> Transfer | None:
    """The transfer that posted, voided or expired the hold, if any."""
    return session.execute(
        select(Transfer).where(Transfer.pending_id == hold_id)
    ).scalar_one_or_none()


def reversal_of(session: Session, transfer_id: int) -> Transfer | None:
    return session.execute(
        select(Transfer).where(Transfer.reverses_id == transfer_id)
    ).scalar_one_or_none()


def open_holds(session: Session, account_id: int) -> Sequence[Transfer]:
    """Holds on the account that have not been posted, voided or expired."""
    resolution = select(Transfer.pending_id).where(Transfer.pending_id.is_not(None))
    return (
        session.execute(
            select(Transfer)
            .where(
                Transfer.debit_account_id == account_id,
                Transfer.phase == Phase.PENDING,
                Transfer.id.not_in(resolution),
            )
            .order_by(Transfer.id)
        )
        .scalars()
        .all()
    )


def posted_balance_before(session: Session, account_id: int, moment: datetime) -> int:
    """Credits minus debits posted to the account with effect before ``moment``."""
    signed = case(
        (Transfer.credit_account_id == account_id, Transfer.amount), else_=-Transfer.amount
    )
    total = session.execute(
        select(func.coalesce(func.sum(signed), 0)).where(
            or_(Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id),
            Transfer.phase.in_(POSTED_PHASES),
            Transfer.effective_at < moment,
        )
    ).scalar_one()
    return int(total)


def posted_between(
    session: Session, account_id: int, start: datetime, end: datetime
) -> Sequence[Transfer]:
    """Posted transfers touching the account with effect in [start, end), oldest first."""
    touches = or_(Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id)
    return (
        session.execute(
            select(Transfer)
            .where(
                touches,
                Transfer.phase.in_(POSTED_PHASES),
                and_(Transfer.effective_at >= start, Transfer.effective_at < end),
            )
            .order_by(Transfer.effective_at, Transfer.id)
        )
        .scalars()
        .all()
    )
