"""Inserting a row unless its unique key is already taken, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_new(session: Session, table: Table, values: dict[str, Any]) -> int | None:
    """Insert ``values``; the new id, or None when a unique constraint already holds them.

    One statement (``ON CONFLICT DO NOTHING``) instead of a savepoint around an insert
    that may fail: a concurrent insert of the same key waits for the other transaction,
    then is skipped.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    found = session.execute(statement).scalar()
    return None if found is None else int(found)
