"""Queries on ledger accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import UnknownRecord
from ledger.models import Account, AccountKind

# The council's own accounts: one each, created on first use.
SYSTEM_ACCOUNTS: dict[AccountKind, str] = {
    AccountKind.COUNCIL_FUNDING: "Council funding",
    AccountKind.MERCHANT_SPEND_CLEARING: "Card spend clearing",
    AccountKind.BANK_PAYMENTS_CLEARING: "Bank payments clearing",
    AccountKind.CONTRIBUTIONS_CLEARING: "Client contributions clearing",
    AccountKind.RECOVERIES: "Recovered surplus",
    AccountKind.FEES: "Card provider fees",
}


def get(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise UnknownRecord(f"account {account_id} does not exist", account_id=account_id)
    return account


def arrears_account_id(session: Session, budget_account_id: int) -> int:
    found = session.execute(
        select(Account.id).where(
            Account.parent_id == budget_account_id, Account.kind == AccountKind.ARREARS
        )
    ).scalar()
    if found is None:
        raise UnknownRecord(f"budget account {budget_account_id} has no arrears account")
    return found


def budgets_owned_by(session: Session, person_id: int) -> list[Account]:
    return list(
        session.execute(
            select(Account)
            .where(Account.owner_id == person_id, Account.kind == AccountKind.PERSONAL_BUDGET)
            .order_by(Account.id)
        ).scalars()
    )
