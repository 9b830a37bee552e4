"""Queries on card payments as the provider identifies them, their parts and holds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.models import CardPayment, CardPaymentHold, CardPaymentPart, PaymentPartKind
from ledger.models import Authorisation, Transfer


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
