"""Queries on the records monitors turn into flags: arrears and reconciliation breaks."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from ledger.models import Account, AccountKind, Card, ReconciliationBreak, Transfer
from monitoring.repositories.spend import Window


def arrears_owed(session: Session, window: Window) -> list[Any]:
    """Arrears accounts below zero with a new shortfall in ``window``: what the provider
    settled beyond a budget's funds. Accounts with no new shortfall are not looked at
    again (their latest shortfall was seen when it was new)."""
    arrears = aliased(Account, name="arrears")
    t = aliased(Transfer, name="t")
    new = aliased(Transfer, name="new")
    latest = select(func.max(t.id)).where(t.debit_account_id == arrears.id).scalar_subquery()
    return list(
        session.execute(
            select(
                arrears.id.label("arrears_account_id"),
                arrears.parent_id.label("budget_account_id"),
                arrears.owner_id.label("person_id"),
                (arrears.debits_posted - arrears.credits_posted).label("owed"),
                latest.label("latest_transfer_id"),
            ).where(
                arrears.kind == AccountKind.ARREARS,
                arrears.debits_posted > arrears.credits_posted,
                exists().where(new.debit_account_id == arrears.id, *window.clauses(new)),
            )
        ).all()
    )


def breaks_after(session: Session, record_id: int, since: date | None) -> list[Any]:
    query = select(
        ReconciliationBreak.id,
        ReconciliationBreak.source,
        ReconciliationBreak.card_id,
        ReconciliationBreak.as_of,
        ReconciliationBreak.provider_balance,
        ReconciliationBreak.ledger_balance,
        ReconciliationBreak.detail,
        Card.holder_id.label("person_id"),
        Card.last4,
    ).join(Card, Card.id == ReconciliationBreak.card_id)
    if since is not None:
        query = query.where(ReconciliationBreak.as_of >= since)
    else:
        query = query.where(ReconciliationBreak.id > record_id)
    return list(session.execute(query.order_by(ReconciliationBreak.id)).all())
