"""monitoring

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:45:41.774717
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entries_subject", ["subject_type", "subject_id"], unique=False
        )

    op.create_table(
        "council_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_council_settings")),
    )
    op.create_table(
        "job_locks",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.Text(), nullable=True),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_locks")),
    )
    op.create_table(
        "line_period_totals",
        sa.Column("plan_line_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("last_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("plan_line_id", "period_index", name=op.f("pk_line_period_totals")),
    )
    with op.batch_alter_table("line_period_totals", schema=None) as batch_op:
        batch_op.create_index("ix_line_period_totals_updated", ["updated_upto"], unique=False)

    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("monitor", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("to_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.String(length=10), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("flags_raised", sa.Integer(), nullable=False),
        sa.Column("evidence_added", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_runs")),
    )
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_runs_monitor"), ["monitor"], unique=False)

    op.create_table(
        "monitor_watermarks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("last_record_id", sa.BigInteger(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitor_watermarks")),
    )
    op.create_table(
        "plan_period_totals",
        sa.Column("plan_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.Column("spend_count", sa.Integer(), nullable=False),
        sa.Column("companion_spend", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("regular_payments", sa.BigInteger(), nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.Column("last_spend_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "period_index", name=op.f("pk_plan_period_totals")),
    )
    with op.batch_alter_table("plan_period_totals", schema=None) as batch_op:
        batch_op.create_index("ix_plan_period_totals_updated", ["updated_upto"], unique=False)

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "unplanned_spend",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("mcc", sa.String(length=4), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("payee", sa.String(length=200), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=False),
        sa.Column("spend_category", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("found_upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unplanned_spend")),
    )
    with op.batch_alter_table("unplanned_spend", schema=None) as batch_op:
        batch_op.create_index("ix_unplanned_spend_found_upto", ["found_upto"], unique=False)

    op.create_table(
        "advocacy_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=64), nullable=False),
        sa.Column("substantial_difficulty", sa.Boolean(), nullable=False),
        sa.Column("appropriate_person", sa.Boolean(), nullable=False),
        sa.Column("advocate_name", sa.String(length=200), nullable=True),
        sa.Column("advocate_appointed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_advocacy_needs_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocacy_needs")),
    )
    with op.batch_alter_table("advocacy_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advocacy_needs_decision"), ["decision"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_advocacy_needs_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "low", "medium", "high", "critical", name="severity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_review",
                "actioned",
                "dismissed",
                "escalated_to_safeguarding",
                name="flagstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column(
            "suggested_action",
            sa.Enum(
                "check",
                "contact_holder",
                "review",
                "clawback",
                "suspend",
                "safeguarding",
                name="suggestedaction",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=120), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snooze_reason", sa.String(length=500), nullable=True),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column(
            "disposition",
            sa.Enum(
                "confirmed",
                "not_confirmed",
                "duplicate",
                name="disposition",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "dismiss_reason",
            sa.Enum(
                "explained_by_holder",
                "agreed_in_plan",
                "provider_or_data_error",
                "duplicate",
                "below_materiality",
                "other",
                name="dismissreason",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("dismiss_detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_flags_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        sa.UniqueConstraint("open_key", name=op.f("uq_flags_open_key")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_monitor"), ["monitor"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_flags_status_severity", ["status", "severity"], unique=False)
        batch_op.create_index("ix_flags_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "life_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hospital_stay",
                "respite",
                "death",
                name="lifeeventkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_life_events_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_events")),
    )
    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.create_index("ix_life_events_person_kind", ["person_id", "kind"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("cause", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "logged",
                "failed",
                name="notificationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notifications_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_person_id"), ["person_id"], unique=False)

    op.create_table(
        "clawback_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_account_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("calculated_amount", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "holder_notified",
                "executed",
                "cancelled",
                name="clawbackstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("live_key", sa.String(length=64), nullable=True),
        sa.Column("needs_second_approval", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by", sa.Date(), nullable=True),
        sa.Column("holder_response", sa.Text(), nullable=True),
        sa.Column("executed_by", sa.String(length=120), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_command_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_outcome", sa.String(length=500), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_clawback_proposals_amount_positive")),
        sa.ForeignKeyConstraint(
            ["budget_account_id"],
            ["accounts.id"],
            name=op.f("fk_clawback_proposals_budget_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_clawback_proposals_flag_id_flags")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_clawback_proposals_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clawback_proposals")),
        sa.UniqueConstraint("live_key", name=op.f("uq_clawback_proposals_live_key")),
    )
    with op.batch_alter_table("clawback_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clawback_proposals_budget_account_id"),
            ["budget_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_clawback_proposals_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "emergency_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("budget_account_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("council_amount", sa.BigInteger(), nullable=False),
        sa.Column("person_amount", sa.BigInteger(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("review_how", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("outcome_aimed_at", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("loaded_by", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "council_amount > 0", name=op.f("ck_emergency_loads_council_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["budget_account_id"],
            ["accounts.id"],
            name=op.f("fk_emergency_loads_budget_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_emergency_loads_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_loads")),
        sa.UniqueConstraint("request_key", name=op.f("uq_emergency_loads_request_key")),
    )
    with op.batch_alter_table("emergency_loads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_loads_budget_account_id"), ["budget_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_loads_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "flag_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_flag_history_flag_id_flags")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_history")),
    )
    with op.batch_alter_table("flag_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_history_flag_id"), ["flag_id"], unique=False)

    op.create_table(
        "flag_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_flag_notes_flag_id_flags")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_notes")),
    )
    with op.batch_alter_table("flag_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_notes_flag_id"), ["flag_id"], unique=False)

    op.create_table(
        "safeguarding_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("concern", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "raised",
                "enquiry",
                "closed",
                name="safeguardingstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_safeguarding_records_flag_id_flags")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_safeguarding_records_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safeguarding_records")),
    )
    with op.batch_alter_table("safeguarding_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safeguarding_records_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "decided",
                "cancelled",
                name="reviewstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_review_requests_flag_id_flags")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_review_requests_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_review_requests_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_requests_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_requests_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "scheduled_load_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("load_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "loaded",
                "paused",
                "skipped",
                name="scheduledloadstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_scheduled_load_runs_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_load_runs")),
        sa.UniqueConstraint(
            "plan_id", "due_on", name=op.f("uq_scheduled_load_runs_plan_id_due_on")
        ),
    )
    with op.batch_alter_table("scheduled_load_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduled_load_runs_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "flag_evidence",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low", "medium", "high", "critical", name="severity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("transfer_ids", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("plan_line_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_flag_evidence_flag_id_flags")
        ),
        sa.ForeignKeyConstraint(
            ["plan_line_id"],
            ["plan_lines.id"],
            name=op.f("fk_flag_evidence_plan_line_id_plan_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_evidence")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_flag_evidence_dedupe_key")),
    )
    with op.batch_alter_table("flag_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_evidence_flag_id"), ["flag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_evidence_flag_id"))

    op.drop_table("flag_evidence")
    with op.batch_alter_table("scheduled_load_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_load_runs_plan_id"))

    op.drop_table("scheduled_load_runs")
    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_requests_plan_id"))
        batch_op.drop_index(batch_op.f("ix_review_requests_person_id"))

    op.drop_table("review_requests")
    with op.batch_alter_table("safeguarding_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguarding_records_person_id"))

    op.drop_table("safeguarding_records")
    with op.batch_alter_table("flag_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_notes_flag_id"))

    op.drop_table("flag_notes")
    with op.batch_alter_table("flag_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_history_flag_id"))

    op.drop_table("flag_history")
    with op.batch_alter_table("emergency_loads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_loads_person_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_loads_budget_account_id"))

    op.drop_table("emergency_loads")
    with op.batch_alter_table("clawback_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clawback_proposals_person_id"))
        batch_op.drop_index(batch_op.f("ix_clawback_proposals_budget_account_id"))

    op.drop_table("clawback_proposals")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_person_id"))
        batch_op.drop_index("ix_notifications_due")

    op.drop_table("notifications")
    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.drop_index("ix_life_events_person_kind")

    op.drop_table("life_events")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_subject")
        batch_op.drop_index("ix_flags_status_severity")
        batch_op.drop_index(batch_op.f("ix_flags_person_id"))
        batch_op.drop_index(batch_op.f("ix_flags_monitor"))

    op.drop_table("flags")
    with op.batch_alter_table("advocacy_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advocacy_needs_person_id"))
        batch_op.drop_index(batch_op.f("ix_advocacy_needs_decision"))

    op.drop_table("advocacy_needs")
    with op.batch_alter_table("unplanned_spend", schema=None) as batch_op:
        batch_op.drop_index("ix_unplanned_spend_found_upto")

    op.drop_table("unplanned_spend")
    op.drop_table("scheduler_leases")
    with op.batch_alter_table("plan_period_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_period_totals_updated")

    op.drop_table("plan_period_totals")
    op.drop_table("monitor_watermarks")
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_runs_monitor"))

    op.drop_table("monitor_runs")
    with op.batch_alter_table("line_period_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_line_period_totals_updated")

    op.drop_table("line_period_totals")
    op.drop_table("job_locks")
    op.drop_table("council_settings")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_subject")

    op.drop_table("audit_entries")
