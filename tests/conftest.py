"""Test fixtures: a real database (SQLite or PostgreSQL, from DATABASE_URL), migrated once
with Alembic; each test runs in a transaction that is rolled back, so code under test may
commit (its commits become savepoints). Tests that race real threads use ``committed``,
which gives them the engine itself and empties the tables afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, bindparam, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.db import Base, make_engine, normalise_url
from ledger.migrate import upgrade
from ledger.registry import load_all_models

load_all_models()


def _test_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


ALLOW_DROP_VARIABLE = "DPLEDGER_TEST_ALLOW_DROP"


def refuse_to_wipe(url: str) -> None:
    """Stop the run before it wipes a database that may be real.

    The suite drops the PostgreSQL schema it is given and empties every table, so the
    database (for SQLite, the file) must say in its name that it is for tests, unless
    ``DPLEDGER_TEST_ALLOW_DROP=1``.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        if database in ("", ":memory:"):
            return
        database = Path(database).name
    if "test" in database.lower() or os.environ.get(ALLOW_DROP_VARIABLE) == "1":
        return
    pytest.exit(
        f"refusing to run the tests on {parsed.render_as_string(hide_password=True)}: the "
        f"suite drops its schema and empties every table, and {database!r} has no 'test' "
        f"in its name. Point DATABASE_URL at a test database (make test runs on "
        f"<name>_test by itself), or set {ALLOW_DROP_VARIABLE}=1 to wipe this one.",
        returncode=4,
    )


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = _test_url(tmp_path_factory)
    refuse_to_wipe(url)
    engine = (
        make_engine(url, pool_size=10, max_overflow=80) if "postgresql" in url else make_engine(url)
    )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end of the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


# Tables whose UPDATE and DELETE the database refuses (migration 0012).
APPEND_ONLY_TABLES = ("transfers", "audit_entries", "flag_history")


@contextmanager
def append_only_triggers_off(connection: Connection) -> Iterator[None]:
    """Inside the block, the append-only tables can be changed, as by someone with the
    right to alter them: the triggers are disabled (PostgreSQL) or dropped and created
    again (SQLite), in the connection's transaction."""
    if connection.dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables"
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": list(APPEND_ONLY_TABLES)},
    ).all()
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


def empty_tables(engine: Engine) -> None:
    """Remove every row the tests committed and restart the chain."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Triggers (the append-only ones among them) do not fire for this transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            _delete_all(conn)
        else:
            with append_only_triggers_off(conn):
                _delete_all(conn)
        conn.execute(
            text("INSERT INTO ledger_head (id, last_transfer_id, last_hash) VALUES (1, 0, :h)"),
            {"h": "0" * 64},
        )


def _delete_all(conn: Connection) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        conn.execute(table.delete())


@pytest.fixture()
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory whose commits are real; every table is emptied afterwards."""
    empty_tables(engine)
    try:
        yield sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        empty_tables(engine)


@pytest.fixture()
def clock() -> FixedClock:
    return FixedClock()
