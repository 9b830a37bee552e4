"""ledger and domain records

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_reference", sa.String(length=32), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("date_of_death", sa.Date(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("council_reference", name=op.f("uq_people_council_reference")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "council_funding",
                "personal_budget",
                "companion_pot",
                "merchant_spend_clearing",
                "bank_payments_clearing",
                "contributions_clearing",
                "recoveries",
                "fees",
                "arrears",
                name="accountkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("system_key", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("no_overdraft", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT no_overdraft OR debits_posted + debits_pending <= credits_posted",
            name=op.f("ck_accounts_no_overdraft"),
        ),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0",
            name=op.f("ck_accounts_totals_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_accounts_owner_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["accounts.id"], name=op.f("fk_accounts_parent_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("system_key", name=op.f("uq_accounts_system_key")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "caring_relationships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carer_id", sa.Integer(), nullable=False),
        sa.Column("cared_for_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("shares_household", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "carer_id <> cared_for_id", name=op.f("ck_caring_relationships_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["cared_for_id"],
            ["people.id"],
            name=op.f("fk_caring_relationships_cared_for_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["carer_id"], ["people.id"], name=op.f("fk_caring_relationships_carer_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caring_relationships")),
        sa.UniqueConstraint(
            "carer_id", "cared_for_id", name=op.f("uq_caring_relationships_carer_id_cared_for_id")
        ),
    )
    with op.batch_alter_table("caring_relationships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caring_relationships_cared_for_id"), ["cared_for_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_caring_relationships_carer_id"), ["carer_id"], unique=False
        )

    op.create_table(
        "companion_pots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("cared_for_id", sa.Integer(), nullable=False),
        sa.Column("companion_id", sa.Integer(), nullable=False),
        sa.Column("budget_account_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_companion_pots_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["budget_account_id"],
            ["accounts.id"],
            name=op.f("fk_companion_pots_budget_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["cared_for_id"], ["people.id"], name=op.f("fk_companion_pots_cared_for_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["companion_id"], ["people.id"], name=op.f("fk_companion_pots_companion_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companion_pots")),
        sa.UniqueConstraint("account_id", name=op.f("uq_companion_pots_account_id")),
    )
    with op.batch_alter_table("companion_pots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_companion_pots_budget_account_id"), ["budget_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_companion_pots_cared_for_id"), ["cared_for_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_companion_pots_companion_id"), ["companion_id"], unique=False
        )

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "care_and_support", "carer_support", name="plankind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("draft", "active", "ended", name="planstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("budget_account_id", sa.Integer(), nullable=False),
        sa.Column("period_weeks", sa.Integer(), nullable=False),
        sa.Column("budget_per_period", sa.Integer(), nullable=False),
        sa.Column("client_contribution_per_period", sa.Integer(), nullable=False),
        sa.Column("cash_allowance_per_period", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("joint_with_plan_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("budget_per_period >= 0", name=op.f("ck_plans_budget_not_negative")),
        sa.CheckConstraint(
            "client_contribution_per_period >= 0", name=op.f("ck_plans_contribution_not_negative")
        ),
        sa.CheckConstraint("period_weeks > 0", name=op.f("ck_plans_period_positive")),
        sa.ForeignKeyConstraint(
            ["budget_account_id"], ["accounts.id"], name=op.f("fk_plans_budget_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["joint_with_plan_id"], ["plans.id"], name=op.f("fk_plans_joint_with_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_plans_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plans_budget_account_id"), ["budget_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plans_person_id"), ["person_id"], unique=False)

    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("primary", "carer", "companion", name="cardkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active", "suspended", "closed", name="cardstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("pot_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_card_token", sa.String(length=128), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'companion') = (pot_id IS NOT NULL)", name=op.f("ck_cards_companion_has_pot")
        ),
        sa.CheckConstraint("length(last4) = 4", name=op.f("ck_cards_last4_length")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cards_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["people.id"], name=op.f("fk_cards_holder_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["pot_id"], ["companion_pots.id"], name=op.f("fk_cards_pot_id_companion_pots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint(
            "provider", "provider_card_token", name=op.f("uq_cards_provider_provider_card_token")
        ),
    )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cards_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cards_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "pa_wages",
                "agency_care",
                "replacement_care",
                "day_activity",
                "equipment",
                "transport",
                "wellbeing",
                "short_break",
                "hmrc_paye",
                "employers_liability_insurance",
                "payroll_service",
                "cash",
                name="plancategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount_per_period", sa.Integer(), nullable=False),
        sa.Column("one_off", sa.Boolean(), nullable=False),
        sa.Column("agreed_payees", sa.JSON(), nullable=False),
        sa.Column("merchant_categories", sa.JSON(), nullable=False),
        sa.Column("meets_needs_of_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount_per_period >= 0", name=op.f("ck_plan_lines_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["meets_needs_of_id"],
            ["people.id"],
            name=op.f("fk_plan_lines_meets_needs_of_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_lines_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_lines")),
    )
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_lines_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "transfers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("debit_account_id", sa.Integer(), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "code",
            sa.Enum(
                "load",
                "emergency_load",
                "contribution",
                "card_spend",
                "cash_withdrawal",
                "direct_debit",
                "standing_order",
                "faster_payment",
                "refund",
                "fee",
                "clawback",
                "pot_allocation",
                "pot_release",
                "reversal",
                "hold_void",
                "hold_expiry",
                "arrears",
                "arrears_repayment",
                name="transfercode",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum(
                "posted",
                "pending",
                "post_pending",
                "void_pending",
                name="phase",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "pending_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("link_group", sa.String(length=64), nullable=True),
        sa.Column("idempotency_source", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("merchant_name", sa.String(length=200), nullable=True),
        sa.Column("mcc", sa.String(length=4), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("payee", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("inbound_event_id", sa.BigInteger(), nullable=True),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_transfers_two_accounts")
        ),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_transfers_card_id_cards")),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfers_credit_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfers_debit_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"], ["transfers.id"], name=op.f("fk_transfers_pending_id_transfers")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["transfers.id"], name=op.f("fk_transfers_reverses_id_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint(
            "idempotency_source",
            "idempotency_key",
            name=op.f("uq_transfers_idempotency_source_idempotency_key"),
        ),
        sa.UniqueConstraint("pending_id", name=op.f("uq_transfers_pending_id")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_transfers_reverses_id")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transfers_card_effective", ["card_id", "effective_at"], unique=False
        )
        batch_op.create_index(
            "ix_transfers_credit_effective", ["credit_account_id", "effective_at"], unique=False
        )
        batch_op.create_index(
            "ix_transfers_debit_effective", ["debit_account_id", "effective_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transfers_link_group"), ["link_group"], unique=False)

    op.create_table(
        "authorisations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_source", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "code",
            sa.Enum(
                "load",
                "emergency_load",
                "contribution",
                "card_spend",
                "cash_withdrawal",
                "direct_debit",
                "standing_order",
                "faster_payment",
                "refund",
                "fee",
                "clawback",
                "pot_allocation",
                "pot_release",
                "reversal",
                "hold_void",
                "hold_expiry",
                "arrears",
                "arrears_repayment",
                name="transfercode",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("merchant_name", sa.String(length=200), nullable=True),
        sa.Column("mcc", sa.String(length=4), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "approved", "declined", name="authorisationdecision", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("decline_reason", sa.String(length=64), nullable=True),
        sa.Column("hold_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_authorisations_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["transfers.id"], name=op.f("fk_authorisations_hold_id_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
        sa.UniqueConstraint(
            "idempotency_source",
            "idempotency_key",
            name=op.f("uq_authorisations_idempotency_source_idempotency_key"),
        ),
    )
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorisations_card_id"), ["card_id"], unique=False)
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("provider_balance", sa.BigInteger(), nullable=False),
        sa.Column("ledger_balance", sa.BigInteger(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_reconciliation_breaks_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_reconciliation_breaks_card_id_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
        sa.UniqueConstraint(
            "source", "card_id", "as_of", name=op.f("uq_reconciliation_breaks_source_card_id_as_of")
        ),
    )
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_breaks_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reconciliation_breaks_card_id"), ["card_id"], unique=False
        )

    # The chain head starts at the genesis hash; every posting moves it.
    op.bulk_insert(
        sa.table(
            "ledger_head",
            sa.column("id", sa.Integer),
            sa.column("last_transfer_id", sa.BigInteger),
            sa.column("last_hash", sa.String),
        ),
        [{"id": 1, "last_transfer_id": 0, "last_hash": "0" * 64}],
    )


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_breaks_card_id"))
        batch_op.drop_index(batch_op.f("ix_reconciliation_breaks_account_id"))

    op.drop_table("reconciliation_breaks")
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorisations_card_id"))

    op.drop_table("authorisations")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_link_group"))
        batch_op.drop_index("ix_transfers_debit_effective")
        batch_op.drop_index("ix_transfers_credit_effective")
        batch_op.drop_index("ix_transfers_card_effective")

    op.drop_table("transfers")
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_lines_plan_id"))

    op.drop_table("plan_lines")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cards_holder_id"))
        batch_op.drop_index(batch_op.f("ix_cards_account_id"))

    op.drop_table("cards")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_person_id"))
        batch_op.drop_index(batch_op.f("ix_plans_budget_account_id"))

    op.drop_table("plans")
    with op.batch_alter_table("companion_pots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_companion_pots_companion_id"))
        batch_op.drop_index(batch_op.f("ix_companion_pots_cared_for_id"))
        batch_op.drop_index(batch_op.f("ix_companion_pots_budget_account_id"))

    op.drop_table("companion_pots")
    with op.batch_alter_table("caring_relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caring_relationships_carer_id"))
        batch_op.drop_index(batch_op.f("ix_caring_relationships_cared_for_id"))

    op.drop_table("caring_relationships")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_parent_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_owner_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_kind"))

    op.drop_table("accounts")
    op.drop_table("people")
    op.drop_table("ledger_head")
