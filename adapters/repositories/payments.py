"""Queries on card payments as the provider identifies them, their parts and holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.models import CardPayment, CardPaymentHold, CardPaymentPart, PaymentPartKind
from ledger.models import Authorisation, Transfer, TransferCode


def find(session: Session, provider: str, provider_payment_id: str) -> CardPayment | None:
    return session.execute(
        select(CardPayment).where(
            CardPayment.provider == provider,
            CardPayment.provider_payment_id == provider_payment_id,
        )
    ).scalar_one_or_none()


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
