"""the officers' People page: people by name, ignoring case, and by council reference

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute('CREATE INDEX ix_people_name_key ON people (lower(full_name COLLATE "C"), id)')
        op.execute(
            'CREATE INDEX ix_people_reference_key ON people (lower(council_reference COLLATE "C"))'
        )
    else:
        op.execute("CREATE INDEX ix_people_name_key ON people (full_name COLLATE NOCASE, id)")
        op.execute(
            "CREATE INDEX ix_people_reference_key ON people (council_reference COLLATE NOCASE)"
        )


def downgrade() -> None:
    op.execute("DROP INDEX ix_people_reference_key")
    op.execute("DROP INDEX ix_people_name_key")
