"""Inserting many rows at once: a flag wave (a load day can raise a surplus flag on most
plans) writes tens of thousands of flags, evidence, history entries and notifications.

On PostgreSQL the rows are streamed with ``COPY … FROM STDIN`` in the session's own
transaction: one round trip, no statement per row. psycopg's ``executemany`` sends one
INSERT per row (pipelined), which measured about 85 µs a row for flag evidence; COPY
takes a few. On SQLite ``executemany`` of one prepared INSERT is already the fast path.

Values go through each column's own bind processing (enums to their stored strings,
JSON serialised), so a row is stored exactly as an ORM insert would store it. Columns
left out get their server defaults, as with an INSERT that leaves them out; Python-side
defaults are not applied, so callers give every column they mean to set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Column, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by the model's attribute names, all with the same
    keys) into ``model``'s table, in the session's transaction, after what the session
    holds."""
    if not rows:
        return
    # What the session holds is written first (the rows may refer to it): COPY goes past
    # the session, and an ORM insert's autoflush may be off.
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(model), list(rows))
        return
    keys = list(rows[0])
    mapper = model.__mapper__
    columns: list[Column[Any]] = [mapper.attrs[key].columns[0] for key in keys]
    processors = [_processor(column, connection.dialect) for column in columns]
    quoting = connection.dialect.identifier_preparer
    names = ", ".join(quoting.quote(column.name) for column in columns)
    statement = f"COPY {quoting.format_table(mapper.local_table)} ({names}) FROM STDIN"
    steps = list(zip(keys, processors, strict=True))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [row[key] if process is None else process(row[key]) for key, process in steps]
                )
    finally:
        cursor.close()


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):
        # psycopg's dialect leaves JSON to the driver's adapter, which COPY does not use:
        # the text COPY reads is the JSON document (None is JSON null, as an ORM insert
        # stores it).
        serialise = getattr(dialect, "_json_serializer", None) or json.dumps
        return serialise
    return column.type.bind_processor(dialect)
