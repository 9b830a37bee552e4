"""Inserting a row unless its unique key is already taken, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger import hot_sql

_INSERT_NEW: dict[tuple[str, str], Insert] = {}


def insert_new(session: Session, table: Table, values: dict[str, Any]) -> int | None:
    """Insert ``values``; the new id, or None when a unique constraint already holds them.

    One statement (``ON CONFLICT DO NOTHING``) instead of a savepoint around an insert
    that may fail: a concurrent insert of the same key waits for the other transaction,
    then is skipped. The statement is built once per table (the values are its
    parameters), and runs on the session's connection, past the ORM: it does not write
    the postings a ``ledger.postings.deferred`` block holds back, so it is not for a row
    that refers to a transfer.
    """
    dialect = session.get_bind().dialect.name
    statement = _INSERT_NEW.get((dialect, table.name))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).on_conflict_do_nothing().returning(table.c.id)
        _INSERT_NEW[(dialect, table.name)] = statement
    found = hot_sql.run_first(session, statement, values)
    return None if found is None else int(found[0])
