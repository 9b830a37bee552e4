"""The durability barrier a delivery waits on before answering (``inbox.make_durable``).

PostgreSQL: a delivery's commits do not wait for the disk (``synchronous_commit`` off),
so the barrier must return only once the write-ahead log is flushed past them: it is a
transactional logical message in autocommit, which takes a transaction id, so its commit
is flushed, and PostgreSQL flushes its log in order. SQLite: nothing commits without
waiting (``synchronous=FULL`` in WAL mode), so there is nothing to wait for."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from adapters.inbox import _BARRIER, make_durable


def _lsn(engine: Engine, function: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT {function}() - '0/0'::pg_lsn")).scalar_one())


def test_the_barrier_returns_once_a_commit_that_did_not_wait_is_on_disk(
    committed: sessionmaker[Session],
) -> None:
    engine: Engine = committed.kw["bind"]
    if engine.dialect.name != "postgresql":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        return
    for attempt in range(5):
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            connection.execute(
                text("UPDATE ledger_head SET last_hash = last_hash WHERE id = 1")
            )  # a write, so the transaction has a commit record
        committed_at = _lsn(engine, "pg_current_wal_insert_lsn")

        make_durable(Session(bind=engine))

        # Other work on the server only moves the flush further on.
        assert _lsn(engine, "pg_current_wal_flush_lsn") >= committed_at, attempt


def test_the_barrier_takes_a_transaction_id_in_autocommit(
    committed: sessionmaker[Session],
) -> None:
    """Its commit is flushed because it has a transaction id; a non-transactional
    message (or a read) has none, and its commit waits for nothing."""
    engine: Engine = committed.kw["bind"]
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        barrier = connection.exec_driver_sql(_BARRIER + ", txid_current_if_assigned()").first()
        plain = connection.exec_driver_sql(
            _BARRIER.replace("(true,", "(false,") + ", txid_current_if_assigned()"
        ).first()
    assert barrier is not None and barrier[1] is not None
    assert plain is not None and plain[1] is None
