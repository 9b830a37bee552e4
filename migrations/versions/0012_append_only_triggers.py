"""append-only tables: the database refuses UPDATE and DELETE on transfers, the audit log
and flag history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The ledger never changes or deletes a transfer (a mistake is undone by a reversing
transfer), and officers' audit entries and flag history are only ever added to. Until
now that was kept by the code alone; these triggers make the database refuse it too, so
a bug or a stray SQL session cannot rewrite history. Someone with the right to alter the
tables can still drop the triggers: the hash chain (``dpledger ledger verify``) is what
finds that.

On SQLite a table rebuilt by a later batch migration loses its triggers: such a
migration must create them again (tests/test_migrations.py checks they are there).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("transfers", "audit_entries", "flag_history")

# SQLSTATE 23000 (integrity_constraint_violation): drivers raise it as an IntegrityError,
# as SQLite does for RAISE(ABORT).
PG_FUNCTION = """
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = '23000';
END
$$
"""


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
            )
        return
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{action} on {table} is refused: "
                "the table is append-only'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS refuse_append_only_change()")
        return
    for table in TABLES:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
