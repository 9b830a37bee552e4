"""job locks: which scheduler started each job's last run

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_run_by", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_locks", schema=None) as batch_op:
        batch_op.drop_column("last_run_by")
