"""Queries for the officers' card page: the card with its account's balances, the
account's ledger history in keyset pages, its open holds, and the commands sent to the
card provider.

The history is ordered by when money moved (``effective_at``, then transfer id), newest
first. Each page is two index range scans, one on ``ix_transfers_debit_effective`` and one
on ``ix_transfers_credit_effective``, each stopping after a page's worth of rows, merged
(UNION ALL: a transfer never debits and credits one account), with the cards' last four
digits joined in the same statement: a page costs the same on the first page of a small
account as deep into a huge ledger (no OFFSET, no query per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from adapters.models import CardCommandRecord
from ledger.models import (
    Account,
    Card,
    CardKind,
    CardStatus,
    CompanionPot,
    Person,
    Phase,
    Transfer,
    TransferCode,
)
from ledger.service import describe


@dataclass(frozen=True)
class CardSummary:
    card_id: int
    kind: CardKind
    status: CardStatus
    last4: str
    provider: str
    holder_id: int
    holder_name: str
    holder_reference: str
    account_id: int
    account_name: str
    pot_name: str | None
    credits_posted: int
    debits_posted: int
    debits_pending: int

    @property
    def posted(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def pending(self) -> int:
        return self.debits_pending

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending


def card_summary(session: Session, card_id: int) -> CardSummary | None:
    row = session.execute(
        select(
            Card.id.label("card_id"),
            Card.kind,
            Card.status,
            Card.last4,
            Card.provider,
            Person.id.label("holder_id"),
            Person.full_name.label("holder_name"),
            Person.council_reference.label("holder_reference"),
            Account.id.label("account_id"),
            Account.name.label("account_name"),
            CompanionPot.name.label("pot_name"),
            Account.credits_posted,
            Account.debits_posted,
            Account.debits_pending,
        )
        .join(Person, Person.id == Card.holder_id)
        .join(Account, Account.id == Card.account_id)
        .outerjoin(CompanionPot, CompanionPot.id == Card.pot_id)
        .where(Card.id == card_id)
    ).first()
    return None if row is None else CardSummary(**row._asdict())


@dataclass(frozen=True)
class LedgerRow:
    transfer_id: int
    effective_at: datetime
    code: TransferCode
    phase: Phase
    description: str
    money_in: int
    money_out: int
    card_last4: str | None


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    # Cursors (transfer ids) for the neighbouring pages: newer and older.
    newer_after: int | None
    older_before: int | None


def ledger_page(
    session: Session,
    account_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = 25,
) -> LedgerPage:
    """One page of every transfer on the account (holds, their settlement or release,
    reversals included: this is the ledger as it is), newest first: the newest page, the
    page older than transfer ``before``, or the page newer than transfer ``after``. A
    cursor that is not a transfer on this account is ignored (the newest page)."""
    cursor_id = after if after is not None else before
    cursor = _position(session, account_id, cursor_id) if cursor_id is not None else None
    newer = cursor is not None and after is not None
    found = _page(session, account_id, cursor, older=not newer, limit=size + 1)
    more = len(found) > size
    found = found[:size]
    if newer:
        found.reverse()
    # A valid cursor is itself a transfer on the other side of this page.
    has_older = more if not newer else True
    has_newer = more if newer else cursor is not None
    rows = [_row(t, last4, account_id) for t, last4 in found]
    return LedgerPage(
        rows=rows,
        newer_after=rows[0].transfer_id if rows and has_newer else None,
        older_before=rows[-1].transfer_id if rows and has_older else None,
    )


Position = tuple[datetime, int]


def _position(session: Session, account_id: int, transfer_id: int) -> Position | None:
    row = session.execute(
        select(Transfer.effective_at, Transfer.id).where(
            Transfer.id == transfer_id,
            or_(Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _beyond(cursor: Position | None, *, older: bool) -> list[Any]:
    """Keyset conditions past ``cursor``, written so the (account, effective_at) index
    bounds the scan: effective_at <= at AND (effective_at < at OR id < cursor id)."""
    if cursor is None:
        return []
    at, transfer_id = cursor
    if older:
        return [
            Transfer.effective_at <= at,
            or_(Transfer.effective_at < at, Transfer.id < transfer_id),
        ]
    return [Transfer.effective_at >= at, or_(Transfer.effective_at > at, Transfer.id > transfer_id)]


def _side(column: Any, account_id: int, cursor: Position | None, older: bool, limit: int) -> Any:
    order = (
        (Transfer.effective_at.desc(), Transfer.id.desc())
        if older
        else (Transfer.effective_at, Transfer.id)
    )
    return (
        select(Transfer.id, Transfer.effective_at)
        .where(column == account_id, *_beyond(cursor, older=older))
        .order_by(*order)
        .limit(limit)
        .subquery()
    )


def _page(
    session: Session, account_id: int, cursor: Position | None, *, older: bool, limit: int
) -> list[tuple[Transfer, str | None]]:
    debits = _side(Transfer.debit_account_id, account_id, cursor, older, limit)
    credits = _side(Transfer.credit_account_id, account_id, cursor, older, limit)
    ids = union_all(
        select(debits.c.id, debits.c.effective_at), select(credits.c.id, credits.c.effective_at)
    ).subquery()
    order = (
        (ids.c.effective_at.desc(), ids.c.id.desc()) if older else (ids.c.effective_at, ids.c.id)
    )
    rows = session.execute(
        select(Transfer, Card.last4)
        .join(ids, ids.c.id == Transfer.id)
        .outerjoin(Card, Card.id == Transfer.card_id)
        .order_by(*order)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _row(t: Transfer, last4: str | None, account_id: int) -> LedgerRow:
    incoming = t.credit_account_id == account_id
    return LedgerRow(
        transfer_id=t.id,
        effective_at=t.effective_at,
        code=t.code,
        phase=t.phase,
        description=describe(t),
        money_in=t.amount if incoming else 0,
        money_out=0 if incoming else t.amount,
        card_last4=last4,
    )


@dataclass(frozen=True)
class OpenHold:
    transfer_id: int
    effective_at: datetime
    amount: int
    description: str
    card_last4: str | None


def open_holds(session: Session, account_id: int, *, limit: int = 100) -> list[OpenHold]:
    """Holds on the account not yet settled, voided or expired, oldest first (the
    resolution check uses the unique index on ``pending_id``)."""
    resolution = aliased(Transfer)
    rows = session.execute(
        select(Transfer, Card.last4)
        .outerjoin(Card, Card.id == Transfer.card_id)
        .where(
            Transfer.debit_account_id == account_id,
            Transfer.phase == Phase.PENDING,
            ~exists().where(resolution.pending_id == Transfer.id),
        )
        .order_by(Transfer.effective_at, Transfer.id)
        .limit(limit)
    ).all()
    return [OpenHold(t.id, t.effective_at, t.amount, describe(t), last4) for t, last4 in rows]


def provider_commands(
    session: Session, card_id: int, *, limit: int = 10
) -> Sequence[CardCommandRecord]:
    """The latest commands sent to the card provider for this card, newest first."""
    return (
        session.execute(
            select(CardCommandRecord)
            .where(CardCommandRecord.card_id == card_id)
            .order_by(CardCommandRecord.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
