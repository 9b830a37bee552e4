"""indexes the officers' audit log reads its pages from

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> name -> columns. The audit log pages newest first by (time, id), filtered by
# who and by what they did (portal/repositories/audit_log.py).
INDEXES = {
    "audit_entries": {
        "ix_audit_entries_at": ["at", "id"],
        "ix_audit_entries_actor_at": ["actor", "at", "id"],
        "ix_audit_entries_action_at": ["action", "at", "id"],
    },
    "record_views": {
        "ix_record_views_viewed_at": ["viewed_at", "id"],
        "ix_record_views_viewer_at": ["viewer_id", "viewed_at", "id"],
    },
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns)


def downgrade() -> None:
    for table, indexes in INDEXES.items():
        for name in list(indexes)[::-1]:
            op.drop_index(name, table_name=table)
