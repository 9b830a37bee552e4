"""Read-only balance queries for reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from ledger.models import Account, Phase, Transfer

_POSTED = (Phase.POSTED, Phase.POST_PENDING)


def posted_balance_at(session: Session, account_id: int, moment: datetime) -> int:
    """The account's posted balance counting only movements with effect before ``moment``.

    Worked back from the account's running totals through what took effect since, so it
    reads a few recent rows by (account, effective_at) rather than the account's history.
    """
    totals = session.execute(
        select(Account.credits_posted, Account.debits_posted).where(Account.id == account_id)
    ).one_or_none()
    if totals is None:
        raise UnknownRecord(f"account {account_id} does not exist", account_id=account_id)
    later_in = session.execute(
        select(func.coalesce(func.sum(Transfer.amount), 0)).where(
            Transfer.credit_account_id == account_id,
            Transfer.effective_at >= moment,
            Transfer.phase.in_(_POSTED),
        )
    ).scalar_one()
    later_out = session.execute(
        select(func.coalesce(func.sum(Transfer.amount), 0)).where(
            Transfer.debit_account_id == account_id,
            Transfer.effective_at >= moment,
            Transfer.phase.in_(_POSTED),
        )
    ).scalar_one()
    return int(totals[0]) - int(totals[1]) - int(later_in) + int(later_out)


def posted_balances_at(
    session: Session, account_ids: Sequence[int], moment: datetime
) -> dict[int, int]:
    """``posted_balance_at`` for many accounts in three statements (per 500): {account id:
    balance} for those that exist."""
    wanted = sorted(set(account_ids))
    balances: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        totals = session.execute(
            select(Account.id, Account.credits_posted, Account.debits_posted).where(
                Account.id.in_(chunk)
            )
        )
        balances.update({int(a): int(c) - int(d) for a, c, d in totals})
        later_in = session.execute(
            select(Transfer.credit_account_id, func.sum(Transfer.amount))
            .where(
                Transfer.credit_account_id.in_(chunk),
                Transfer.effective_at >= moment,
                Transfer.phase.in_(_POSTED),
            )
            .group_by(Transfer.credit_account_id)
        )
        for account_id, amount in later_in:
            balances[int(account_id)] -= int(amount)
        later_out = session.execute(
            select(Transfer.debit_account_id, func.sum(Transfer.amount))
            .where(
                Transfer.debit_account_id.in_(chunk),
                Transfer.effective_at >= moment,
                Transfer.phase.in_(_POSTED),
            )
            .group_by(Transfer.debit_account_id)
        )
        for account_id, amount in later_out:
            balances[int(account_id)] += int(amount)
    return balances
