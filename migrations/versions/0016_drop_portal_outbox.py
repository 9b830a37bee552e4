"""password reset emails go through the notification outbox: drop portal_outbox

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Nothing ever sent what ``portal_outbox`` held: password reset emails, each with a link
that worked for an hour. They are written to monitoring's ``notifications`` now, which
the scheduler sends. Nothing is moved across: any link still in the table has expired or
will within the hour, and someone who is waiting for one asks again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("portal_outbox")


def downgrade() -> None:
    op.create_table(
        "portal_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_outbox")),
    )
