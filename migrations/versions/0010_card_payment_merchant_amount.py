"""card payments: the merchant's own amount and currency (foreign payments, for display)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merchant_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("merchant_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_column("merchant_currency")
        batch_op.drop_column("merchant_amount")
