"""The posting engine's hot statements, sent straight to the database driver.

A posting runs a handful of fixed statements. Through SQLAlchemy each costs 40-50 µs
of Python before the database sees it, several times what SQLite itself spends, so
these few go to the DBAPI cursor of the session's own connection: the same transaction
and savepoints SQLAlchemy manages, no second connection. Values are converted the way
the models' column types store them (see ``ledger.db.UTCDateTime``: naive UTC text on
SQLite, ``timestamptz`` on PostgreSQL; enums by value), and reading them back through
the ORM gives the same objects. Everything else in the ledger goes through SQLAlchemy.

Round trips matter as much as statements. On PostgreSQL each statement waits for the
server, so what a posting writes (its transfers, the accounts' totals, the head) goes in
one pipeline, and what it reads is asked for in as few statements as the locking allows.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "code",
    "phase",
    "pending_id",
    "reverses_id",
    "link_group",
    "idempotency_source",
    "idempotency_key",
    "request_digest",
    "effective_at",
    "created_at",
    "card_id",
    "merchant_name",
    "mcc",
    "category",
    "payee",
    "reference",
    "inbound_event_id",
    "chain_hash",
)
# The columns of an account the posting engine keeps in memory, in this order.
ACCOUNT_COLUMNS = (
    "id, kind, parent_id, no_overdraft, closed, "
    "debits_pending, debits_posted, credits_pending, credits_posted"
)
_ACCOUNT_COLUMNS_OF_A = ", ".join(f"a.{c.strip()}" for c in ACCOUNT_COLUMNS.split(","))

# Who has an idempotency key, within its source: a transfer (KEY_OF_A_TRANSFER), else a
# card authorisation decided without one (a decline: KEY_OF_AN_AUTHORISATION), else
# nobody (NULL). COALESCE stops at the first that has it.
KEY_OF_A_TRANSFER = 1
KEY_OF_AN_AUTHORISATION = 2
_KEY_USE = (
    "COALESCE((SELECT 1 FROM transfers WHERE idempotency_source = :source "
    "AND idempotency_key = :key), (SELECT 2 FROM authorisations "
    "WHERE idempotency_source = :source AND idempotency_key = :key))"
)

_SQL = {
    "select_head": "SELECT last_transfer_id, last_hash FROM ledger_head WHERE id = 1",
    # SQLite: the transaction began IMMEDIATE, so it already holds the write lock and the
    # key lookup may share the head's statement. (Not PostgreSQL: see ``lock_head``.)
    "select_head_and_key": f"SELECT last_transfer_id, last_hash, {_KEY_USE} "  # noqa: S608
    "FROM ledger_head WHERE id = 1",
    "move_head": "UPDATE ledger_head SET last_transfer_id = :head_id, last_hash = :head_hash "
    "WHERE id = 1",
    "update_totals": "UPDATE accounts SET debits_pending = :dp, debits_posted = :dP, "
    "credits_pending = :cp, credits_posted = :cP WHERE id = :id",
    "key_use": f"SELECT {_KEY_USE}",
    "system_account": "SELECT id FROM accounts WHERE system_key = :system_key",
    "card_account": "SELECT account_id FROM cards WHERE id = :card_id",
    "pot_accounts": "SELECT budget_account_id, account_id FROM companion_pots WHERE id = :pot_id",
    "arrears_account": "SELECT id FROM accounts WHERE parent_id = :budget_id AND kind = 'arrears'",
}


# PostgreSQL's many-row forms. Transfers come as one JSON document (the json module
# writes it in C; psycopg's array dumpers loop in Python, and executemany runs the
# statement once a row on the server); totals as one array per column.
_PG_INSERT_TRANSFERS = (
    f"INSERT INTO transfers ({', '.join(_TRANSFER_COLUMNS)}) "  # noqa: S608
    f"SELECT {', '.join(_TRANSFER_COLUMNS)} "
    "FROM json_populate_recordset(NULL::transfers, %s::json)"
)
_PG_UPDATE_TOTALS = (
    "UPDATE accounts AS a SET debits_pending = v.dp, debits_posted = v.d_p, "
    "credits_pending = v.cp, credits_posted = v.c_p "
    "FROM unnest(%s::integer[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    "AS v(id, dp, d_p, cp, c_p) WHERE a.id = v.id"
)


# The most transfers and accounts one posting writes in a single statement (above that, a
# pipeline): each (transfers, accounts) pair is a statement text of its own, prepared once.
_ONE_STATEMENT_ROWS = 4
_ONE_STATEMENT_ACCOUNTS = 8


@cache
def _pg_write_statement(rows: int, accounts: int) -> str:
    """A posting's writes as one PostgreSQL statement: the accounts' totals and the head
    in data-modifying WITH clauses (each runs, once, whether or not it is referenced; they
    touch different tables), the transfers in the statement itself. Parameters: each
    account's (id, dp, dP, cp, cP), the head's (id, hash), then each transfer's columns.
    One statement, not a pipeline of three: a third of psycopg's work a statement, and
    scalar parameters where the pipeline's totals needed five arrays."""
    account = "(%s::integer, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"
    transfer = f"({', '.join(['%s'] * len(_TRANSFER_COLUMNS))})"
    return (
        "WITH moved AS (UPDATE accounts AS a SET debits_pending = v.dp, "  # noqa: S608
        "debits_posted = v.d_p, credits_pending = v.cp, credits_posted = v.c_p "
        f"FROM (VALUES {', '.join([account] * accounts)}) AS v(id, dp, d_p, cp, c_p) "
        "WHERE a.id = v.id RETURNING 1), "
        "head AS (UPDATE ledger_head SET last_transfer_id = %s, last_hash = %s "
        "WHERE id = 1 RETURNING 1) "
        f"INSERT INTO transfers ({', '.join(_TRANSFER_COLUMNS)}) "
        f"VALUES {', '.join([transfer] * rows)}"
    )


def _pyformat(sql: str) -> str:
    """``:name`` placeholders (sqlite3's named style) to ``%(name)s`` (psycopg's)."""
    return re.sub(r":([A-Za-z_]\w*)", r"%(\1)s", sql)


_BY_DIALECT = {
    "sqlite": dict(_SQL),
    "postgresql": {name: _pyformat(sql) for name, sql in _SQL.items()},
}
_BY_DIALECT["postgresql"]["select_head"] += " FOR UPDATE"


class HotPath:
    """The DBAPI cursor of a session's connection, for one transaction."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect.name
        if self.dialect not in _BY_DIALECT:
            raise RuntimeError(f"the ledger does not support {self.dialect}")
        self.sql = _BY_DIALECT[self.dialect]
        self.mark = "?" if self.dialect == "sqlite" else "%s"
        # Positional parameters: the driver binds a tuple faster than a dict of names.
        self.insert_sql = (
            f"INSERT INTO transfers ({', '.join(_TRANSFER_COLUMNS)}) "  # noqa: S608
            f"VALUES ({self._marks(len(_TRANSFER_COLUMNS))})"
        )
        # What the driver raises (sqlite3.Error, psycopg.Error): the statements below
        # bypass SQLAlchemy, which would otherwise wrap it.
        self.driver_error: type[Exception] = connection.dialect.loaded_dbapi.Error
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        self.dbapi_connection: Any = dbapi_connection
        self.cursor = dbapi_connection.cursor()
        self._times: dict[datetime, str] = {}

    def _one(self, name: str, params: Mapping[str, Any] | None = None) -> Sequence[Any] | None:
        self.cursor.execute(self.sql[name], params or {})
        row: Sequence[Any] | None = self.cursor.fetchone()
        return row

    def _marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def lock_head(self, key: tuple[str, str] | None = None) -> tuple[int, str, int | None] | None:
        """Lock the chain head: (last id, last hash, who has ``key``: ``key_use``), or None
        when the head row is missing. With no ``key``, the third value is None.

        On PostgreSQL the key is looked up in a statement of its own after the lock is
        held: under READ COMMITTED a statement that waited for the lock still reads with
        the snapshot it started with, and would miss a posting of the same key committed
        while it waited.
        """
        if key is None:
            row = self._one("select_head")
            return None if row is None else (int(row[0]), str(row[1]), None)
        source, idempotency_key = key
        if self.dialect == "sqlite":
            row = self._one("select_head_and_key", {"source": source, "key": idempotency_key})
            return None if row is None else (int(row[0]), str(row[1]), row[2])
        row = self._one("select_head")
        if row is None:
            return None
        return int(row[0]), str(row[1]), self.key_use(source, idempotency_key)

    def move_head(self, head_id: int, head_hash: str) -> None:
        self.cursor.execute(self.sql["move_head"], {"head_id": head_id, "head_hash": head_hash})

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (…)`` and its parameters. PostgreSQL gets one array parameter, so
        the statement's text (and its prepared plan) is the same however many values; or
        for one value (a real-time decision's card), that value: psycopg dumps a list in
        Python, element by element."""
        if self.dialect == "postgresql":
            if len(values) == 1:
                return f"{column} = %s", [values[0]]
            return f"{column} = ANY(%s)", [list(values)]
        return f"{column} IN ({self._marks(len(values))})", list(values)

    def select_accounts(self, ids: Iterable[int]) -> list[Sequence[Any]]:
        """(id, kind, parent_id, no_overdraft, closed, dp, dP, cp, cP) of each account."""
        condition, params = self._in("id", list(ids))
        self.cursor.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {condition}", params)  # noqa: S608
        return list(self.cursor.fetchall())

    def card_accounts(self, card_ids: Sequence[int], *, system: bool) -> list[Sequence[Any]]:
        """The account each card draws on, and with ``system`` the council's system
        accounts too, in one statement: (card id or None, system key or None, then the
        account's columns as ``select_accounts`` gives them)."""
        parts: list[str] = []
        params: list[Any] = []
        if card_ids:
            condition, params = self._in("c.id", card_ids)
            parts.append(
                f"SELECT c.id, a.system_key, {_ACCOUNT_COLUMNS_OF_A} FROM cards c "  # noqa: S608
                f"JOIN accounts a ON a.id = c.account_id WHERE {condition}"
            )
        if system:
            parts.append(
                f"SELECT NULL, a.system_key, {_ACCOUNT_COLUMNS_OF_A} FROM accounts a "  # noqa: S608
                "WHERE a.system_key IS NOT NULL"
            )
        if not parts:
            return []
        self.cursor.execute(" UNION ALL ".join(parts), params)
        return list(self.cursor.fetchall())

    def arrears_accounts(self, budget_ids: Sequence[int]) -> list[Sequence[Any]]:
        """(budget account id, then the arrears account's columns) of each budget's
        arrears account, in one statement."""
        condition, params = self._in("a.parent_id", budget_ids)
        sql = (
            f"SELECT a.parent_id, {_ACCOUNT_COLUMNS_OF_A} FROM accounts a "  # noqa: S608
            f"WHERE a.kind = 'arrears' AND {condition}"
        )
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall())

    def write(
        self,
        rows: Sequence[Mapping[str, Any]],
        totals: Sequence[tuple[int, int, int, int, int]],
        head_id: int,
        head_hash: str,
    ) -> None:
        """Insert the transfers, set the accounts' totals (id, dp, dP, cp, cP) and move
        the head: on PostgreSQL in one round trip, a single statement for a posting of a
        few transfers (a real-time hold: one transfer, two accounts), else a pipeline."""
        if (
            self.dialect == "postgresql"
            and 0 < len(rows) <= _ONE_STATEMENT_ROWS
            and 0 < len(totals) <= _ONE_STATEMENT_ACCOUNTS
        ):
            params: list[Any] = []
            for state in totals:
                params += state
            params += (head_id, head_hash)
            for row in self._transfer_values(rows):
                params += row
            self.cursor.execute(_pg_write_statement(len(rows), len(totals)), params)
            return
        with self._pipeline():
            self.insert_transfers(rows)
            self.update_totals_many(totals)
            self.move_head(head_id, head_hash)

    def _pipeline(self) -> Any:
        if self.dialect == "postgresql":
            return _pg_pipeline(self.dbapi_connection)
        return nullcontext()

    def update_totals_many(self, states: Sequence[tuple[int, int, int, int, int]]) -> None:
        if len(states) > 1 and self.dialect == "postgresql":
            # One statement for them all: the server runs it once, not once per account.
            self.cursor.execute(
                _PG_UPDATE_TOTALS, [list(column) for column in zip(*states, strict=True)]
            )
            return
        params = [
            {"id": a, "dp": dp, "dP": d_p, "cp": cp, "cP": c_p} for a, dp, d_p, cp, c_p in states
        ]
        if len(params) == 1:
            self.cursor.execute(self.sql["update_totals"], params[0])
        elif params:
            self.cursor.executemany(self.sql["update_totals"], params)

    def insert_transfers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) > 1 and self.dialect == "postgresql":
            # Enums are str, so JSON has their values; times are written as ISO 8601
            # with their offset, as timestamptz reads them.
            for start in range(0, len(rows), 5000):
                document = json.dumps(rows[start : start + 5000], default=_iso_time)
                self.cursor.execute(_PG_INSERT_TRANSFERS, [document])
            return
        values = self._transfer_values(rows)
        if len(values) == 1:
            self.cursor.execute(self.insert_sql, values[0])
        elif values:
            self.cursor.executemany(self.insert_sql, values)

    def _transfer_values(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each transfer's column values, in ``_TRANSFER_COLUMNS`` order."""
        timestamp = self._timestamp
        return [
            (
                row["id"],
                row["debit_account_id"],
                row["credit_account_id"],
                row["amount"],
                row["code"].value,
                row["phase"].value,
                row["pending_id"],
                row["reverses_id"],
                row["link_group"],
                row["idempotency_source"],
                row["idempotency_key"],
                row["request_digest"],
                timestamp(row["effective_at"]),
                timestamp(row["created_at"]),
                row["card_id"],
                row["merchant_name"],
                row["mcc"],
                row["category"],
                row["payee"],
                row["reference"],
                row["inbound_event_id"],
                row["chain_hash"],
            )
            for row in rows
        ]

    def key_use(self, source: str, key: str) -> int | None:
        """``KEY_OF_A_TRANSFER``, ``KEY_OF_AN_AUTHORISATION``, or None when the key is free."""
        row = self._one("key_use", {"source": source, "key": key})
        return None if row is None or row[0] is None else int(row[0])

    def system_account(self, system_key: str) -> int | None:
        row = self._one("system_account", {"system_key": system_key})
        return None if row is None else int(row[0])

    def card_account(self, card_id: int) -> int | None:
        row = self._one("card_account", {"card_id": card_id})
        return None if row is None else int(row[0])

    def pot_accounts(self, pot_id: int) -> tuple[int, int] | None:
        row = self._one("pot_accounts", {"pot_id": pot_id})
        return None if row is None else (int(row[0]), int(row[1]))

    def arrears_account(self, budget_id: int) -> int | None:
        row = self._one("arrears_account", {"budget_id": budget_id})
        return None if row is None else int(row[0])

    def keys_used(self, source: str, keys: Sequence[str]) -> set[str]:
        """Which of these idempotency keys a transfer or a card authorisation from this
        source already has.

        On PostgreSQL each key is looked up through the unique indexes, once per key:
        statistics lag behind a table an import is filling, and with ``IN`` the planner
        may then scan every transfer of the source instead.
        """
        if self.dialect == "postgresql":
            self.cursor.execute(
                "SELECT k.key FROM unnest(%s::text[]) AS k(key) WHERE EXISTS "
                "(SELECT 1 FROM transfers t WHERE t.idempotency_source = %s "
                "AND t.idempotency_key = k.key) OR EXISTS (SELECT 1 FROM authorisations a "
                "WHERE a.idempotency_source = %s AND a.idempotency_key = k.key)",
                [list(keys), source, source],
            )
        else:
            marks = self._marks(len(keys))
            sql = (
                "SELECT idempotency_key FROM transfers WHERE idempotency_source = ? "  # noqa: S608
                f"AND idempotency_key IN ({marks}) UNION SELECT idempotency_key "
                f"FROM authorisations WHERE idempotency_source = ? AND idempotency_key IN ({marks})"
            )
            self.cursor.execute(sql, [source, *keys, source, *keys])
        return {row[0] for row in self.cursor.fetchall()}

    def _timestamp(self, value: datetime) -> Any:
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        if self.dialect == "sqlite":
            # The text SQLAlchemy's SQLite DateTime writes, so the ORM reads it back. A
            # posting's times repeat (created_at, and effective_at when it is "now"), and
            # consecutive postings often share them: remember the last few.
            text = self._times.get(value)
            if text is None:
                if len(self._times) >= 64:
                    self._times.clear()
                if value.tzinfo is UTC:  # nearly always: "+00:00" is all there is to drop
                    text = value.isoformat(" ", "microseconds")[:26]
                else:
                    utc = value.astimezone(UTC).replace(tzinfo=None)
                    text = utc.isoformat(" ", "microseconds")
                self._times[value] = text
            return text
        return value


def _iso_time(value: object) -> str:
    """What ``json.dumps`` cannot write itself in a transfer: its aware times."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value of a transfer")


@contextmanager
def _pg_pipeline(connection: Any) -> Iterator[None]:
    """psycopg's pipeline mode: statements are sent without waiting for each result."""
    with connection.pipeline():
        yield


# -- SQLAlchemy Core statements, run on the driver ---------------------------------------
#
# Through ``Connection.execute`` a statement built once still costs some 100-150 us of
# Python a call (an execution context, parameter processing, a result object and its
# metadata), several times what psycopg itself spends. ``run`` compiles a Core statement
# once per dialect and set of parameter names, with SQLAlchemy's own compiler, and at
# each call converts the parameters and the result values with the same type processors
# SQLAlchemy would apply, on the session's connection (its transaction): the same SQL,
# the same values in and out, the same errors (raised as SQLAlchemy's ``DBAPIError``s).


class _Plan:
    """A statement compiled for one dialect and one set of parameter names."""

    __slots__ = (
        "compiled", "escaped", "fixed", "positions", "processors", "results", "row", "sql",
    )  # fmt: skip

    def __init__(self, statement: Any, dialect: Any, names: frozenset[str]) -> None:
        self.compiled = compiled = statement.compile(dialect=dialect, column_keys=sorted(names))
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.post_compile_params
            or compiled.literal_execute_params
            or compiled.schema_translate_map
        ):
            raise ValueError("a statement with Python-side defaults or expanding parameters")
        self.sql: str = compiled.string
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )
        self.escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        self.processors: Mapping[str, Any] = compiled._bind_processors
        # When each parameter is the bind of its own name and the statement's other binds
        # hold constants (no callables), its parameters are those constants and the
        # caller's values: ``construct_params`` need not work that out at every call.
        self.fixed: dict[str, Any] | None = None
        if not any(bind.callable is not None for bind in compiled.binds.values()):
            markers = {name: object() for name in names}
            try:
                template = compiled.construct_params(markers, escape_names=False)
            except Exception:  # a required bind not given: SQLAlchemy says so when it runs
                template = None
            if template is not None and all(template.get(n) is m for n, m in markers.items()):
                self.fixed = {n: v for n, v in template.items() if n not in markers}
        columns = compiled._result_columns
        self.row: Any = None  # a namedtuple class
        self.results: tuple[Any, ...] = ()
        if columns:
            names_out = [entry.keyname for entry in columns]
            if len(set(names_out)) != len(names_out) or not all(
                n.isidentifier() and not n.startswith("_") for n in names_out
            ):
                raise ValueError("result columns that are not distinct identifiers")
            self.row = namedtuple("Row", names_out)  # type: ignore[misc]
            self.results = tuple(
                entry.type._cached_result_processor(dialect, None) for entry in columns
            )

    def parameters(self, params: Mapping[str, Any]) -> Any:
        if self.fixed is not None:
            values = {**self.fixed, **params}
        else:
            values = self.compiled.construct_params(params, escape_names=False)
        for name, process in self.processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.positions is not None:
            return [values[name] for name in self.positions]
        if self.escaped:
            return {self.escaped.get(name, name): value for name, value in values.items()}
        return values


_PLANS: dict[tuple[Any, str, frozenset[str]], _Plan | None] = {}
_CURSOR = "dpledger.hot_sql.cursor"


def run(session: Session | Connection, statement: Any, params: Mapping[str, Any]) -> list[Any]:
    """Run a Core statement built once (a module's constant: its plans are kept for
    good) on the session's connection (or on a connection: in its transaction, if any),
    straight to the driver; its rows (named tuples: by position or by column name),
    converted as SQLAlchemy converts them. A statement this cannot run (Python-side
    defaults, expanding ``IN``) goes through SQLAlchemy."""
    connection = session if isinstance(session, Connection) else session.connection()
    dialect = connection.dialect
    key = (statement, dialect.name, frozenset(params))
    plan = _PLANS.get(key, _PLANS)
    if plan is _PLANS:
        try:
            plan = _Plan(statement, dialect, key[2])
        except ValueError:
            plan = None
        _PLANS[key] = plan
    if plan is None:
        return list(connection.execute(statement, params))
    assert isinstance(plan, _Plan)
    arguments = plan.parameters(params)
    fetched = _execute(connection, plan.sql, arguments, fetch=plan.row is not None)
    row, results = plan.row, plan.results
    if row is None:
        return []
    if not any(results):
        return [row._make(values) for values in fetched]
    return [
        row._make(
            [value if p is None else p(value) for p, value in zip(results, values, strict=True)]
        )
        for values in fetched
    ]


def run_first(session: Session | Connection, statement: Any, params: Mapping[str, Any]) -> Any:
    """``run``'s first row, or None."""
    found = run(session, statement, params)
    return found[0] if found else None


def _execute(connection: Connection, sql: str, arguments: Any, *, fetch: bool) -> list[Any]:
    """Run ``sql`` on the connection's driver connection, with one cursor kept with it
    (``info`` lives as long as the driver connection); driver errors are raised as
    SQLAlchemy raises them, and a lost connection is invalidated, as SQLAlchemy does."""
    dialect = connection.dialect
    pooled = connection.connection
    cursor = pooled.info.get(_CURSOR)
    if cursor is None:
        cursor = pooled.info[_CURSOR] = pooled.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, arguments)
        return list(cursor.fetchall()) if fetch else []
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if invalidated:
            pooled.info.pop(_CURSOR, None)
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql,
            arguments,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from error


def execute_between_transactions(connection: Connection, sql: str) -> list[Any]:
    """PostgreSQL: run a statement of fixed text (no parameters) in autocommit, on a
    connection between transactions; its rows."""
    with autocommit(connection):
        return _execute(connection, sql, None, fetch=True)


@contextmanager
def autocommit(connection: Connection) -> Iterator[None]:
    """PostgreSQL: the connection in autocommit for the block (it must be between
    transactions), switched on the driver: psycopg sends nothing to switch it, where
    SQLAlchemy's ``execution_options(isolation_level=...)`` costs some 50 us of Python each
    way. Back to transactions at the end, whatever happened; if that fails (a lost
    connection), the connection is invalidated, never returned to the pool in autocommit."""
    driver = connection.connection.dbapi_connection
    assert driver is not None
    driver.autocommit = True
    try:
        yield
    finally:
        try:
            driver.autocommit = False
        except Exception as error:
            connection.invalidate(error)
            raise
