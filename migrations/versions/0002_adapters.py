"""adapters: inbox, card payments, outbound commands, statement imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_deliveries")),
    )
    op.create_table(
        "statement_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_progress",
                "completed",
                "rejected",
                name="importstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("lines_applied", sa.BigInteger(), nullable=False),
        sa.Column("lines_duplicate", sa.BigInteger(), nullable=False),
        sa.Column("lines_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("balances_checked", sa.BigInteger(), nullable=False),
        sa.Column("breaks", sa.BigInteger(), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_imports")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_statement_imports_file_sha256")),
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "applied",
                "duplicate",
                "ignored",
                "parked",
                name="inboxstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["inbound_deliveries.id"],
            name=op.f("fk_inbound_events_delivery_id_inbound_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint(
            "provider",
            "provider_event_id",
            name=op.f("uq_inbound_events_provider_provider_event_id"),
        ),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_events_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index("ix_inbound_events_status_id", ["status", "id"], unique=False)

    op.create_table(
        "quarantined_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_number", sa.BigInteger(), nullable=False),
        sa.Column("raw_line", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["statement_imports.id"],
            name=op.f("fk_quarantined_lines_import_id_statement_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_lines")),
        sa.UniqueConstraint(
            "import_id", "line_number", name=op.f("uq_quarantined_lines_import_id_line_number")
        ),
    )
    op.create_table(
        "card_commands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("command", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                "failed",
                name="commandstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_reply", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_event_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_card_commands_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_commands")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_card_commands_idempotency_key")),
    )
    with op.batch_alter_table("card_commands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_commands_card_id"), ["card_id"], unique=False)

    op.create_table(
        "card_payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=200), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("cash", sa.Boolean(), nullable=False),
        sa.Column("merchant_name", sa.String(length=200), nullable=True),
        sa.Column("mcc", sa.String(length=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_card_payments_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payments")),
        sa.UniqueConstraint(
            "provider",
            "provider_payment_id",
            name=op.f("uq_card_payments_provider_provider_payment_id"),
        ),
    )
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_payments_card_id"), ["card_id"], unique=False)

    op.create_table(
        "card_payment_holds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("hold_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["transfers.id"], name=op.f("fk_card_payment_holds_hold_id_transfers")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["card_payments.id"],
            name=op.f("fk_card_payment_holds_payment_id_card_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payment_holds")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_card_payment_holds_hold_id")),
    )
    with op.batch_alter_table("card_payment_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_payment_holds_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "card_payment_parts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("part_key", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "authorisation",
                "decline",
                "advice",
                "increment",
                "reversal",
                "reversal_total",
                "full_reversal",
                "expiry",
                "clearing",
                "refund",
                name="paymentpartkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inbound_event_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["card_payments.id"],
            name=op.f("fk_card_payment_parts_payment_id_card_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payment_parts")),
        sa.UniqueConstraint(
            "payment_id", "part_key", name=op.f("uq_card_payment_parts_payment_id_part_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("card_payment_parts")
    with op.batch_alter_table("card_payment_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_payment_holds_payment_id"))

    op.drop_table("card_payment_holds")
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_payments_card_id"))

    op.drop_table("card_payments")
    with op.batch_alter_table("card_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_commands_card_id"))

    op.drop_table("card_commands")
    op.drop_table("quarantined_lines")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_status_id")
        batch_op.drop_index(batch_op.f("ix_inbound_events_delivery_id"))

    op.drop_table("inbound_events")
    op.drop_table("statement_imports")
    op.drop_table("inbound_deliveries")
