"""scheduled loads: whether the provider was told, and why a load failed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_load_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider_told_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("provider_command_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))
    # Loads made before this revision told the provider in the same transaction.
    op.execute(
        "UPDATE scheduled_load_runs SET provider_told_at = recorded_at WHERE status = 'loaded'"
    )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_load_runs", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("provider_command_id")
        batch_op.drop_column("provider_told_at")
