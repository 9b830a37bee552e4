"""A card account's transfers for API clients, in keyset pages by transfer id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.models import Transfer


def transfers_after(
    session: Session, account_id: int, after_id: int, limit: int
) -> Sequence[Transfer]:
    """Transfers debiting or crediting the account with ids above ``after_id``, oldest
    first: each page costs the same however far in (no OFFSET)."""
    return (
        session.execute(
            select(Transfer)
            .where(
                or_(
                    Transfer.debit_account_id == account_id,
                    Transfer.credit_account_id == account_id,
                ),
                Transfer.id > after_id,
            )
            .order_by(Transfer.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
