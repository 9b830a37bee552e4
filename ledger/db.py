"""Database plumbing shared by every part: declarative base, portable types, engines.

SQLite is the embedded default (WAL, foreign keys on, a busy timeout, and every
transaction opened with ``BEGIN IMMEDIATE`` so that a read-then-write unit of work can
never fail half-way with ``SQLITE_BUSY_SNAPSHOT``). PostgreSQL is production; the same
models and migrations serve both.

Read-only work that must see one state of the whole database (``dpledger ledger verify``
and ``check``) runs in ``read_only_snapshot`` instead: a REPEATABLE READ, READ ONLY
transaction on PostgreSQL, and a plain deferred ``BEGIN`` on SQLite, where WAL gives the
reader a snapshot from its first read without taking the write lock.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("DPLEDGER_INSTANCE", PROJECT_ROOT / "instance"))

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A connection execution option: begin SQLite transactions with a deferred BEGIN.
_READ_ONLY_OPTION = "dpledger_read_only"

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases.

    SQLite has no timezone type, so values are stored as naive UTC and made aware again
    on the way out. A naive value on the way in is a programming error, not a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'dpledger.db'}"


def database_url() -> str:
    """The database named by ``DATABASE_URL``, else the SQLite file in ``instance/``."""
    return normalise_url(os.environ.get("DATABASE_URL") or default_database_url())


def normalise_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at the psycopg 3 driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine configured the same way for the app, the CLI, tests and benchmarks."""
    url = normalise_url(url or database_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": 30, "check_same_thread": False}
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: a committed posting survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        statement = (
            "BEGIN"
            if connection.get_execution_options().get(_READ_ONLY_OPTION)
            else "BEGIN IMMEDIATE"
        )
        # Straight to the driver: through exec_driver_sql, SQLAlchemy's execution
        # machinery costs some 25-50 us, paid by every transaction (each real-time
        # authorisation's among them). Its errors are raised as SQLAlchemy's, as they
        # would have been (a busy database: OperationalError).
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_sqlite(session: Session) -> bool:
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


@contextmanager
def read_only_snapshot(engine: Engine) -> Iterator[Session]:
    """A session over one read-only transaction that sees a single state of the database.

    Reads spread over several statements then agree with each other even while postings
    commit: on PostgreSQL the transaction is REPEATABLE READ and READ ONLY (under READ
    COMMITTED each statement would see a newer state); on SQLite it opens with a deferred
    ``BEGIN``, so it holds no write lock, and WAL keeps its snapshot from its first read.
    Nothing is committed: the transaction is rolled back at the end.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        else:
            connection.execution_options(**{_READ_ONLY_OPTION: True})
        with Session(bind=connection, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back if it raises."""
    with factory() as session, session.begin():
        yield session
