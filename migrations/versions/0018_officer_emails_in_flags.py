"""flags: who is assigned, who closed it, who acted and who wrote a note, as long as a
sign-in email may be (254 characters, not 120)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

Officers are named by the email they sign in with, which may be 254 characters long;
PostgreSQL refused one longer than 120 in these columns. On PostgreSQL each is widened
in place (no rewrite, indexes kept).

SQLite does not enforce the length, but its schema should say the same as the models:

- ``flags`` cannot be rebuilt by a batch migration: other tables' foreign keys point at
  it, and the migration's transaction cannot turn their checks off, so dropping the old
  table would leave them pointing at nothing. Each column is replaced in place instead
  (a new column, the values copied, the old one dropped, the new one renamed), with the
  two queue indexes on ``assignee`` dropped and made again as migrations 0006 and 0013
  made them.
- ``flag_history`` and ``flag_notes`` are rebuilt by batch migrations; rebuilding
  ``flag_history`` drops its append-only triggers (migration 0012), so they are made
  again here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAG_COLUMNS = ("assignee", "closed_by")
# The queue's indexes on flags.assignee (migrations 0006 and 0013).
ASSIGNEE_INDEXES = {
    "ix_flags_open_assignee_sla": (["assignee", "sla_due_at", "id"], "open_key IS NOT NULL"),
    "ix_flags_status_assignee_sla": (["status", "assignee", "sla_due_at", "id"], None),
}
REBUILT = {"flag_history": "actor", "flag_notes": "author"}  # NOT NULL columns


def upgrade() -> None:
    _resize(120, 254)


def downgrade() -> None:
    _resize(254, 120)


def _resize(old: int, new: int) -> None:
    if op.get_context().dialect.name != "sqlite":
        for column in FLAG_COLUMNS:
            op.alter_column("flags", column, existing_type=sa.String(old), type_=sa.String(new))
        for table, column in REBUILT.items():
            op.alter_column(
                table,
                column,
                existing_type=sa.String(old),
                type_=sa.String(new),
                existing_nullable=False,
            )
        return

    for name in ASSIGNEE_INDEXES:
        op.drop_index(name, table_name="flags")
    for column in FLAG_COLUMNS:
        wider = f"{column}_{new}"
        op.add_column("flags", sa.Column(wider, sa.String(new), nullable=True))
        op.execute(f"UPDATE flags SET {wider} = {column}")  # noqa: S608  (names from above)
        op.drop_column("flags", column)
        op.alter_column("flags", wider, new_column_name=column)
    for name, (columns, where) in ASSIGNEE_INDEXES.items():
        where_clause = {"sqlite_where": sa.text(where)} if where else {}
        op.create_index(name, "flags", columns, **where_clause)

    for table, column in REBUILT.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(old),
                type_=sa.String(new),
                existing_nullable=False,
            )
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER flag_history_no_{action.lower()} BEFORE {action} ON "
            f"flag_history BEGIN SELECT RAISE(ABORT, '{action} on flag_history is "
            "refused: the table is append-only'); END"
        )
