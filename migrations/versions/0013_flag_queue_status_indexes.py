"""flags by status and assignee, and by status and monitor, in SLA order (the queue)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_flags_status_assignee_sla": ["status", "assignee", "sla_due_at", "id"],
    "ix_flags_status_monitor_sla": ["status", "monitor", "sla_due_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "flags", columns)


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.drop_index(name, table_name="flags")
