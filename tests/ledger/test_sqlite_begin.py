"""SQLite transactions begin IMMEDIATE (read-only snapshots with a plain BEGIN), sent to
the driver directly, with a busy database reported as SQLAlchemy's OperationalError."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, exc, text

from ledger.db import make_engine, read_only_snapshot


def _impatient(connection: Connection) -> None:
    # Wait 50 ms for the write lock, not the engine's 30 s.
    connection.connection.driver_connection.execute("PRAGMA busy_timeout = 50")


def test_a_write_transaction_holds_the_lock_from_its_begin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'begin.db'}")
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as first, engine.connect() as second:
        _impatient(second)
        with first.begin():  # nothing read or written yet: BEGIN IMMEDIATE took the lock
            with pytest.raises(exc.OperationalError, match="database is locked"):
                second.begin()
            assert not second.in_transaction()
        with second.begin():  # once the first has ended
            second.execute(text("INSERT INTO t VALUES (1)"))
    # A read-only snapshot takes no write lock: a writer goes on beside it.
    with read_only_snapshot(engine) as reader, engine.connect() as writer:
        _impatient(writer)
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        with writer.begin():
            writer.execute(text("INSERT INTO t VALUES (2)"))
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1  # its snapshot
    engine.dispose()
