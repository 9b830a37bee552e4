"""The posting engine's hot statements, sent straight to the database driver.

A posting runs a handful of fixed statements. Through SQLAlchemy each costs 40-50 µs
of Python before the database sees it, several times what SQLite itself spends, so
these few go to the DBAPI cursor of the session's own connection: the same transaction
and savepoints SQLAlchemy manages, no second connection. Values are converted the way
the models' column types store them (see ``ledger.db.UTCDateTime``: naive UTC text on
SQLite, ``timestamptz`` on PostgreSQL; enums by value), and reading them back through
the ORM gives the same objects. Everything else in the ledger goes through SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

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

_SQL = {
    "select_head": "SELECT last_transfer_id, last_hash FROM ledger_head WHERE id = 1",
    "move_head": "UPDATE ledger_head SET last_transfer_id = :head_id, last_hash = :head_hash "
    "WHERE id = 1",
    "update_totals": "UPDATE accounts SET debits_pending = :dp, debits_posted = :dP, "
    "credits_pending = :cp, credits_posted = :cP WHERE id = :id",
    "insert_transfer": f"INSERT INTO transfers ({', '.join(_TRANSFER_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(':' + c for c in _TRANSFER_COLUMNS)})",
    "key_used": "SELECT id FROM transfers WHERE idempotency_source = :source "
    "AND idempotency_key = :key",
    "system_account": "SELECT id FROM accounts WHERE system_key = :system_key",
    "card_account": "SELECT account_id FROM cards WHERE id = :card_id",
    "pot_accounts": "SELECT budget_account_id, account_id FROM companion_pots WHERE id = :pot_id",
    "arrears_account": "SELECT id FROM accounts WHERE parent_id = :budget_id AND kind = 'arrears'",
}
_ACCOUNT_COLUMNS = (
    "id, kind, parent_id, no_overdraft, closed, "
    "debits_pending, debits_posted, credits_pending, credits_posted"
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
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        self.cursor = dbapi_connection.cursor()
        self._last_time: tuple[object, str] = (None, "")

    def _one(self, name: str, params: Mapping[str, Any] | None = None) -> Sequence[Any] | None:
        self.cursor.execute(self.sql[name], params or {})
        row: Sequence[Any] | None = self.cursor.fetchone()
        return row

    def select_head(self) -> tuple[int, str] | None:
        row = self._one("select_head")
        return None if row is None else (int(row[0]), str(row[1]))

    def move_head(self, head_id: int, head_hash: str) -> None:
        self.cursor.execute(self.sql["move_head"], {"head_id": head_id, "head_hash": head_hash})

    def select_accounts(self, ids: Iterable[int]) -> list[Sequence[Any]]:
        """(id, kind, parent_id, no_overdraft, closed, dp, dP, cp, cP) of each account."""
        ids = list(ids)
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts "  # noqa: S608
            f"WHERE id IN ({', '.join([mark] * len(ids))})"
        )
        self.cursor.execute(sql, ids)
        return list(self.cursor.fetchall())

    def update_totals(self, account_id: int, dp: int, d_p: int, cp: int, c_p: int) -> None:
        self.cursor.execute(
            self.sql["update_totals"], {"id": account_id, "dp": dp, "dP": d_p, "cp": cp, "cP": c_p}
        )

    def update_totals_many(self, states: Sequence[tuple[int, int, int, int, int]]) -> None:
        self.cursor.executemany(
            self.sql["update_totals"],
            [{"id": a, "dp": dp, "dP": d_p, "cp": cp, "cP": c_p} for a, dp, d_p, cp, c_p in states],
        )

    def insert_transfers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        converted = [
            {
                **row,
                "code": row["code"].value,
                "phase": row["phase"].value,
                "effective_at": self._timestamp(row["effective_at"]),
                "created_at": self._timestamp(row["created_at"]),
            }
            for row in rows
        ]
        if len(converted) == 1:
            self.cursor.execute(self.sql["insert_transfer"], converted[0])
        else:
            self.cursor.executemany(self.sql["insert_transfer"], converted)

    def key_used(self, source: str, key: str) -> bool:
        return self._one("key_used", {"source": source, "key": key}) is not None

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
        """Which of these idempotency keys already have a transfer from this source."""
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            "SELECT idempotency_key FROM transfers WHERE idempotency_source = "  # noqa: S608
            f"{mark} AND idempotency_key IN ({', '.join([mark] * len(keys))})"
        )
        self.cursor.execute(sql, [source, *keys])
        return {row[0] for row in self.cursor.fetchall()}

    def _timestamp(self, value: datetime) -> Any:
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        if self.dialect == "sqlite":
            # The text SQLAlchemy's SQLite DateTime writes, so the ORM reads it back.
            seen, text = self._last_time
            if seen is not value:
                text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                self._last_time = (value, text)
            return text
        return value
