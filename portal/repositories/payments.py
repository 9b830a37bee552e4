"""A card's payments page: what moved in and out of the account the card draws on,
newest first, searched by payee or merchant text and dates, paged by transfer id
(keyset paging: no OFFSET, so a page costs the same however far back it is).

Shown: posted transfers, and holds still waiting to settle. Not shown: the bookkeeping
of a hold being settled or released (the settled payment itself is shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.models import Phase, Transfer, TransferCode
from ledger.repositories.transfers import POSTED_PHASES
from ledger.service import describe


@dataclass(frozen=True)
class PaymentSearch:
    text: str | None = None
    start: datetime | None = None  # effective at or after
    end: datetime | None = None  # effective before


@dataclass(frozen=True)
class PaymentRow:
    transfer_id: int
    effective_at: datetime
    code: TransferCode
    description: str
    money_in: int
    money_out: int
    pending: bool


@dataclass(frozen=True)
class PaymentPage:
    rows: list[PaymentRow]
    # Cursors for the neighbouring pages: ``after`` for newer, ``before`` for older.
    newer_after: int | None
    older_before: int | None


def _conditions(account_id: int, search: PaymentSearch) -> list[Any]:
    resolution = aliased(Transfer)
    open_hold = and_(
        Transfer.phase == Phase.PENDING,
        ~exists().where(resolution.pending_id == Transfer.id),
    )
    conditions: list[Any] = [
        or_(Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id),
        or_(Transfer.phase.in_(POSTED_PHASES), open_hold),
    ]
    if search.text:
        text = search.text.strip()
        conditions.append(
            or_(
                Transfer.merchant_name.icontains(text, autoescape=True),
                Transfer.payee.icontains(text, autoescape=True),
                Transfer.reference.icontains(text, autoescape=True),
            )
        )
    if search.start is not None:
        conditions.append(Transfer.effective_at >= search.start)
    if search.end is not None:
        conditions.append(Transfer.effective_at < search.end)
    return conditions


def payments_page(
    session: Session,
    account_id: int,
    search: PaymentSearch,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = 25,
) -> PaymentPage:
    """One page of the account's payments, newest first: the newest page, or the page
    older than transfer ``before``, or the page newer than transfer ``after``."""
    conditions = _conditions(account_id, search)
    query = select(Transfer).where(*conditions)
    if after is not None:
        found = list(
            session.execute(query.where(Transfer.id > after).order_by(Transfer.id).limit(size + 1))
            .scalars()
            .all()
        )
        has_newer = len(found) > size
        found = list(reversed(found[:size]))
        has_older = _exists(session, conditions, Transfer.id <= after)
    else:
        if before is not None:
            query = query.where(Transfer.id < before)
        found = list(
            session.execute(query.order_by(Transfer.id.desc()).limit(size + 1)).scalars().all()
        )
        has_older = len(found) > size
        found = found[:size]
        has_newer = before is not None and _exists(session, conditions, Transfer.id >= before)
    rows = [_row(t, account_id) for t in found]
    return PaymentPage(
        rows=rows,
        newer_after=rows[0].transfer_id if rows and has_newer else None,
        older_before=rows[-1].transfer_id if rows and has_older else None,
    )


def _exists(session: Session, conditions: list[Any], extra: Any) -> bool:
    found = session.execute(select(Transfer.id).where(*conditions, extra).limit(1)).first()
    return found is not None


def _row(t: Transfer, account_id: int) -> PaymentRow:
    incoming = t.credit_account_id == account_id
    return PaymentRow(
        transfer_id=t.id,
        effective_at=t.effective_at,
        code=t.code,
        description=describe(t),
        money_in=t.amount if incoming else 0,
        money_out=0 if incoming else t.amount,
        pending=t.phase is Phase.PENDING,
    )
