"""statement imports: why a file was rejected, where it is archived; quarantined lines
tried again (their status, attempts, when resolved)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("statement_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("archived_as", sa.String(length=500), nullable=True))
    with op.batch_alter_table("quarantined_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "quarantined",
                    "applied",
                    "duplicate",
                    name="quarantinestatus",
                    native_enum=False,
                    create_constraint=False,
                    length=32,
                ),
                nullable=False,
                server_default="quarantined",
            )
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    # The rejection of a file was kept as a quarantined "line 1" with an empty line: it
    # is the import's reason now.
    op.execute(
        "UPDATE statement_imports SET reason = (SELECT q.reason FROM quarantined_lines q "
        "WHERE q.import_id = statement_imports.id AND q.line_number = 1 AND q.raw_line = '') "
        "WHERE status = 'rejected'"
    )
    op.execute(
        "DELETE FROM quarantined_lines WHERE raw_line = '' AND import_id IN "
        "(SELECT id FROM statement_imports WHERE status = 'rejected')"
    )


def downgrade() -> None:
    with op.batch_alter_table("quarantined_lines", schema=None) as batch_op:
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")
    with op.batch_alter_table("statement_imports", schema=None) as batch_op:
        batch_op.drop_column("archived_as")
        batch_op.drop_column("reason")
