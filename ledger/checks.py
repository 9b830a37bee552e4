"""``dpledger ledger check``: the books balance, and every account's totals are the fold
of its transfers. Both are computed in SQL over all accounts at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Subquery, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from ledger.models import Account, Phase, Transfer

_TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


@dataclass(frozen=True)
class AccountMismatch:
    account_id: int
    total: str
    stored: int
    folded: int


@dataclass(frozen=True)
class BalanceReport:
    posted_debits: int
    posted_credits: int
    pending_debits: int
    pending_credits: int
    mismatches: list[AccountMismatch] = field(default_factory=list)
    negative_no_overdraft: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.posted_debits == self.posted_credits
            and self.pending_debits == self.pending_credits
            and not self.mismatches
            and not self.negative_no_overdraft
        )

    def problems(self) -> list[str]:
        out = []
        if self.posted_debits != self.posted_credits:
            out.append(
                f"trial balance: posted debits {self.posted_debits}p but posted credits "
                f"{self.posted_credits}p (difference {self.posted_debits - self.posted_credits}p)"
            )
        if self.pending_debits != self.pending_credits:
            out.append(
                f"trial balance: pending debits {self.pending_debits}p but pending credits "
                f"{self.pending_credits}p"
            )
        for m in self.mismatches:
            out.append(
                f"account {m.account_id}: {m.total} is {m.stored}p but its transfers add up "
                f"to {m.folded}p"
            )
        for account_id in self.negative_no_overdraft:
            out.append(f"account {account_id}: a no-overdraft account is below zero")
        return out


def _movements() -> Subquery:
    """One row per (account, total, amount) effect of every transfer."""
    hold = aliased(Transfer)
    posted = Transfer.phase.in_([Phase.POSTED, Phase.POST_PENDING])
    resolution = Transfer.phase.in_([Phase.POST_PENDING, Phase.VOID_PENDING])
    pending = Transfer.phase == Phase.PENDING

    def side(account_col: InstrumentedAttribute[int], prefix: str) -> list[Any]:
        return [
            select(
                account_col.label("account_id"),
                literal(f"{prefix}_posted").label("total"),
                Transfer.amount.label("amount"),
            ).where(posted),
            select(
                account_col.label("account_id"),
                literal(f"{prefix}_pending").label("total"),
                Transfer.amount.label("amount"),
            ).where(pending),
            select(
                account_col.label("account_id"),
                literal(f"{prefix}_pending").label("total"),
                (-hold.amount).label("amount"),
            )
            .join(hold, hold.id == Transfer.pending_id)
            .where(resolution),
        ]

    return union_all(
        *side(Transfer.debit_account_id, "debits"), *side(Transfer.credit_account_id, "credits")
    ).subquery()


def check_balances(session: Session) -> BalanceReport:
    """Trial balance over all accounts, and each account's totals against the fold."""
    sums = session.execute(
        select(*(func.coalesce(func.sum(getattr(Account, t)), 0) for t in _TOTALS))
    ).one()
    debits_pending, debits_posted, credits_pending, credits_posted = (int(v) for v in sums)

    moves = _movements()
    folded_rows = session.execute(
        select(moves.c.account_id, moves.c.total, func.sum(moves.c.amount)).group_by(
            moves.c.account_id, moves.c.total
        )
    ).all()
    folded: dict[tuple[int, str], int] = {(a, t): int(s) for a, t, s in folded_rows}

    mismatches: list[AccountMismatch] = []
    negatives: list[int] = []
    accounts = session.execute(
        select(Account.id, Account.no_overdraft, *(getattr(Account, t) for t in _TOTALS))
        .order_by(Account.id)
        .execution_options(yield_per=5000)
    )
    for account_id, no_overdraft, *stored in accounts:
        for name, value in zip(_TOTALS, stored, strict=True):
            expected = folded.get((account_id, name), 0)
            if value != expected:
                mismatches.append(AccountMismatch(account_id, name, value, expected))
        d_pending, d_posted, _c_pending, c_posted = stored
        if no_overdraft and d_posted + d_pending > c_posted:
            negatives.append(account_id)
    return BalanceReport(
        posted_debits=debits_posted,
        posted_credits=credits_posted,
        pending_debits=debits_pending,
        pending_credits=credits_pending,
        mismatches=mismatches,
        negative_no_overdraft=negatives,
    )
