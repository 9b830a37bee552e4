"""Queries on card payments as the provider identifies them, their parts and holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from adapters.models import CardPayment, CardPaymentHold, CardPaymentPart, PaymentPartKind
from adapters.repositories import rows
from ledger import hot_sql, postings
from ledger.models import Authorisation, Transfer, TransferCode

_PAYMENTS = cast(Table, CardPayment.__table__)
# Rows written and not read back on the real-time path: Core inserts, built once.
_INSERT_PART = insert(cast(Table, CardPaymentPart.__table__))
_INSERT_HOLD = insert(cast(Table, CardPaymentHold.__table__))


def find(session: Session, provider: str, provider_payment_id: str) -> CardPayment | None:
    return session.execute(
        select(CardPayment).where(
            CardPayment.provider == provider,
            CardPayment.provider_payment_id == provider_payment_id,
        )
    ).scalar_one_or_none()


def insert_payment(session: Session, values: dict[str, Any]) -> CardPayment | None:
    """Insert a payment (every column but ``id`` in ``values``) unless the provider's id
    for it is already stored (by this transaction or a concurrent one, which it waits
    for); the new payment, or None when it was there already.

    The new payment is returned as it was written, without reading it back (one
    statement, where finding it first and then inserting takes three), and detached: the
    event that wrote it changes nothing of it, so the session need not track it (a later
    ``find`` in the transaction reads the row). Not to be changed: nothing would write it."""
    inserted = rows.insert_new(session, _PAYMENTS, values)
    if inserted is None:
        return None
    payment = CardPayment(id=inserted, **values)
    make_transient_to_detached(payment)  # as if loaded: every column is there
    return payment


def insert_part(session: Session, **values: Any) -> None:
    """Record a part of a payment (a Core insert: nothing reads it back here)."""
    hot_sql.run(session, _INSERT_PART, values)


def insert_hold(session: Session, *, payment_id: int, hold_id: int, amount: int) -> None:
    """Record a ledger hold placed for a payment (a Core insert). The hold must be in the
    database first: a ``ledger.postings.deferred`` block may still hold it back."""
    postings.write_pending(session)
    hot_sql.run(
        session, _INSERT_HOLD, {"payment_id": payment_id, "hold_id": hold_id, "amount": amount}
    )


def parts(session: Session, payment_id: int) -> list[CardPaymentPart]:
    return list(
        session.execute(
            select(CardPaymentPart)
            .where(CardPaymentPart.payment_id == payment_id)
            .order_by(CardPaymentPart.id)
        ).scalars()
    )


def has_part(session: Session, payment_id: int, part_key: str) -> bool:
    return (
        session.execute(
            select(CardPaymentPart.id).where(
                CardPaymentPart.payment_id == payment_id, CardPaymentPart.part_key == part_key
            )
        ).first()
        is not None
    )


def part_kind(session: Session, payment_id: int, part_key: str) -> PaymentPartKind | None:
    """The kind of the payment's part under ``part_key``, if there is one."""
    kind: PaymentPartKind | None = session.execute(
        select(CardPaymentPart.kind).where(
            CardPaymentPart.payment_id == payment_id, CardPaymentPart.part_key == part_key
        )
    ).scalar_one_or_none()
    return kind


def open_holds(session: Session, payment_id: int) -> list[CardPaymentHold]:
    """The payment's ledger holds not yet posted, voided or expired, largest first."""
    resolved = select(Transfer.pending_id).where(Transfer.pending_id == CardPaymentHold.hold_id)
    return list(
        session.execute(
            select(CardPaymentHold)
            .where(CardPaymentHold.payment_id == payment_id, ~resolved.exists())
            .order_by(CardPaymentHold.amount.desc(), CardPaymentHold.id)
        ).scalars()
    )


def hold_known(session: Session, hold_id: int) -> bool:
    return (
        session.execute(
            select(CardPaymentHold.id).where(CardPaymentHold.hold_id == hold_id)
        ).first()
        is not None
    )


def authorisation(session: Session, source: str, key: str) -> Authorisation | None:
    """The ledger's recorded real-time decision under (source, idempotency key)."""
    return session.execute(
        select(Authorisation).where(
            Authorisation.idempotency_source == source, Authorisation.idempotency_key == key
        )
    ).scalar_one_or_none()


def merchant_amounts(session: Session, transfers: Sequence[Transfer]) -> dict[int, tuple[int, str]]:
    """For transfers of card payments in a foreign currency: the payment's amount and
    currency at the merchant, by transfer id. A hold, what resolves it, and a clearing of
    the payment (against its hold or not) are the payment's; refunds and transfers with
    no card payment record (a clearing the provider linked to no authorisation) have
    none."""
    holds: dict[int, list[int]] = {}
    for t in transfers:
        for hold_id in (t.id, t.pending_id):
            if hold_id is not None:
                holds.setdefault(hold_id, []).append(t.id)
    found: dict[int, tuple[int, str]] = {}
    rows = session.execute(
        select(CardPaymentHold.hold_id, CardPayment.merchant_amount, CardPayment.merchant_currency)
        .join(CardPayment, CardPayment.id == CardPaymentHold.payment_id)
        .where(CardPaymentHold.hold_id.in_(holds), CardPayment.merchant_amount.is_not(None))
    ).all()
    for hold_id, amount, currency in rows:
        for transfer_id in holds[hold_id]:
            if amount is not None and currency:
                found[transfer_id] = (amount, currency)
    # A clearing's transfers carry its event id as their key (``key``, ``key#2`` …).
    clearings: dict[tuple[str, str], list[int]] = {}
    for t in transfers:
        if t.id not in found and t.code is not TransferCode.REFUND:
            base, _, n = t.idempotency_key.rpartition("#")
            key = base if base and n.isdigit() else t.idempotency_key
            clearings.setdefault((t.idempotency_source, f"clr:{key}"), []).append(t.id)
    if clearings:
        cleared = session.execute(
            select(
                CardPayment.provider,
                CardPaymentPart.part_key,
                CardPayment.merchant_amount,
                CardPayment.merchant_currency,
            )
            .join(CardPayment, CardPayment.id == CardPaymentPart.payment_id)
            .where(
                CardPaymentPart.part_key.in_({part for _, part in clearings}),
                CardPayment.merchant_amount.is_not(None),
            )
        ).all()
        for provider, part_key, amount, currency in cleared:
            for transfer_id in clearings.get((provider, part_key), []):
                if amount is not None and currency:
                    found[transfer_id] = (amount, currency)
    return found
