"""The adapters' own records: the inbox, card payments as the provider sees them, outbound
card commands, and statement-file imports.

Every provider event is stored raw before it is applied. A delivery (one webhook request,
or one gateway request) is kept byte for byte with the headers needed to verify it; each
provider event in it gets an inbox row, unique by (provider, provider event id), that
records what applying it did.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, BigId, UTCDateTime
from ledger.models.types import str_enum


class InboxStatus(StrEnum):
    """What applying an inbox event did."""

    RECEIVED = "received"  # stored, not yet applied
    APPLIED = "applied"  # changed the ledger (or our records) as the event says
    DUPLICATE = "duplicate"  # its effect was already there (another event said the same)
    IGNORED = "ignored"  # a type we do not use, recorded with why
    PARKED = "parked"  # could not be applied; the reason says why; replayable


UNAPPLIED = (InboxStatus.RECEIVED, InboxStatus.PARKED)


class InboundDelivery(Base):
    """One request as it arrived: the raw body bytes and the headers needed to verify it.

    Credentials (an ``Authorization`` header) are never stored: only that they were checked.
    """

    __tablename__ = "inbound_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # webhook, gateway, api
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboundEvent(Base):
    """One provider event in the inbox, and the outcome of applying it."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id"),
        Index("ix_inbound_events_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("inbound_deliveries.id"), index=True)
    # Where the event sits in its delivery (Marqeta sends several in one body).
    position: Mapped[int] = mapped_column(default=0)
    provider: Mapped[str] = mapped_column(String(32))
    provider_event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[InboxStatus] = mapped_column(str_enum(InboxStatus))
    # Why it was parked, ignored or a duplicate; what it did when applied.
    reason: Mapped[str | None] = mapped_column(String(500))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The synchronous answer given (real-time authorisation), so a redelivery gets the same.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PaymentPartKind(StrEnum):
    """One thing the provider told us about a card payment."""

    AUTHORISATION = "authorisation"  # approved for an amount (a request we approved, or advice)
    DECLINE = "decline"  # our decision (or, with no decision of ours, the provider's) declined
    # The provider declined after all (our approval came too late, say): nothing is held.
    PROVIDER_DECLINE = "provider_decline"
    ADVICE = "advice"  # the provider's adjusted authorised amount (absolute)
    INCREMENT = "increment"  # an incremental authorisation (delta)
    REVERSAL = "reversal"  # part of the authorisation released (delta)
    REVERSAL_TOTAL = "reversal_total"  # the provider's running total released (absolute)
    FULL_REVERSAL = "full_reversal"  # the whole authorisation released
    EXPIRY = "expiry"  # the authorisation expired unsettled
    CLEARING = "clearing"  # a settlement
    REFUND = "refund"  # money back from the merchant


class CardPayment(Base):
    """A card payment as the provider identifies it (its authorisation id), so the events
    about it can arrive in any order and still end in the same balances."""

    __tablename__ = "card_payments"
    __table_args__ = (UniqueConstraint("provider", "provider_payment_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_payment_id: Mapped[str] = mapped_column(String(200))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    cash: Mapped[bool] = mapped_column(default=False)
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    mcc: Mapped[str | None] = mapped_column(String(4))
    # A payment in a foreign currency: what the merchant charged in its own currency
    # (minor units), for display; the ledger moves the billed GBP. A clearing's figure
    # replaces the authorisation's.
    merchant_amount: Mapped[int | None] = mapped_column(BigInteger)
    merchant_currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CardPaymentPart(Base):
    """One event's contribution to a card payment, once per part key."""

    __tablename__ = "card_payment_parts"
    __table_args__ = (UniqueConstraint("payment_id", "part_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("card_payments.id"))
    part_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PaymentPartKind] = mapped_column(str_enum(PaymentPartKind))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    inbound_event_id: Mapped[int | None] = mapped_column(BigInteger)


class CardPaymentHold(Base):
    """A ledger hold placed for a card payment (the first, and any for increments)."""

    __tablename__ = "card_payment_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("card_payments.id"), index=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class CommandStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet answered (or the answer was lost)
    ACCEPTED = "accepted"  # the provider did it
    REJECTED = "rejected"  # the provider refused; retrying will not help
    FAILED = "failed"  # the provider could not be reached or failed; safe to retry


class CardCommandRecord(Base):
    """An outbound command to the card provider, with its outcome. The idempotency key is
    sent to the provider too, so a retry never has a second effect."""

    __tablename__ = "card_commands"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[CommandStatus] = mapped_column(str_enum(CommandStatus))
    provider_reply: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the provider's own event confirms the command took effect.
    confirmed_by_event_id: Mapped[int | None] = mapped_column(BigInteger)


class ImportStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # Refused as a whole, nothing applied (``reason`` says why): not a statement file, or
    # no line names a card of the provider given. Importing it again tries again.
    REJECTED = "rejected"


class StatementImport(Base):
    """One statement file, by the SHA-256 of its bytes: importing it again changes nothing.

    ``lines_done`` is the last line committed, so an interrupted import resumes after it.
    """

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_size: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lines_done: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_applied: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_duplicate: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    balances_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    breaks: Mapped[int] = mapped_column(BigInteger, default=0)
    statement_date: Mapped[date | None]
    # Why the file was rejected, for a rejected import.
    reason: Mapped[str | None] = mapped_column(String(500))
    # Where the file is kept, byte for byte, under the SHA-256 it is known by: the raw
    # record of every line (the provider's fields we do not use among them).
    archived_as: Mapped[str | None] = mapped_column(String(500))


class QuarantineStatus(StrEnum):
    QUARANTINED = "quarantined"  # not applied; ``reason`` says why
    APPLIED = "applied"  # applied when it was tried again, after the cause was fixed
    DUPLICATE = "duplicate"  # tried again, its effect was already there


class QuarantinedLine(Base):
    """A statement line that could not be applied, kept as it was with the reason.

    ``dpledger import --retry-quarantined`` tries it again once the cause is fixed: a line
    that applies is marked so (and never tried again); one that still fails keeps its
    status with the latest reason.
    """

    __tablename__ = "quarantined_lines"
    __table_args__ = (UniqueConstraint("import_id", "line_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("statement_imports.id"))
    line_number: Mapped[int] = mapped_column(BigInteger)
    raw_line: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[QuarantineStatus] = mapped_column(
        str_enum(QuarantineStatus), default=QuarantineStatus.QUARANTINED
    )
    attempts: Mapped[int] = mapped_column(default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
