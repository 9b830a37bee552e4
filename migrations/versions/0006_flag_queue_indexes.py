"""indexes the officers' flag queue reads its pages from

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = sa.text("open_key IS NOT NULL")

# name -> columns; the "open" ones cover open flags only (partial indexes).
OPEN_INDEXES = {
    "ix_flags_open_sla": ["sla_due_at", "id"],
    "ix_flags_open_severity_sla": ["severity", "sla_due_at", "id"],
    "ix_flags_open_monitor_sla": ["monitor", "sla_due_at", "id"],
    "ix_flags_open_assignee_sla": ["assignee", "sla_due_at", "id"],
    "ix_flags_open_raised": ["raised_at", "id"],
}
STATUS_INDEXES = {
    "ix_flags_status_sla": ["status", "sla_due_at", "id"],
    "ix_flags_status_raised": ["status", "raised_at", "id"],
}


def upgrade() -> None:
    for name, columns in OPEN_INDEXES.items():
        op.create_index(name, "flags", columns, postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY)
    for name, columns in STATUS_INDEXES.items():
        op.create_index(name, "flags", columns)


def downgrade() -> None:
    for name in [*STATUS_INDEXES, *OPEN_INDEXES][::-1]:
        op.drop_index(name, table_name="flags")
