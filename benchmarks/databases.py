"""The databases a benchmark runs on: a fresh SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, make_url, text

from ledger.db import INSTANCE_DIR, make_engine
from ledger.migrate import upgrade

PG_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


@dataclass(frozen=True)
class BenchDatabase:
    label: str  # "sqlite" or "postgresql"
    url: str


def available(name: str) -> list[BenchDatabase]:
    """SQLite always; PostgreSQL when BENCH_POSTGRES_URL is set or 127.0.0.1:5432 answers."""
    sqlite_file = INSTANCE_DIR / "bench" / f"{name}.db"
    sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        sqlite_file.with_name(sqlite_file.name + suffix).unlink(missing_ok=True)
    out = [BenchDatabase("sqlite", f"sqlite:///{sqlite_file}")]
    pg = os.environ.get("BENCH_POSTGRES_URL")
    if pg:
        refuse_unless_disposable(pg)
        out.append(BenchDatabase("postgresql", pg))
        return out
    db = f"dpledger_bench_{name}"
    try:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
    except psycopg.OperationalError as error:
        print(f"  PostgreSQL not reachable, skipped: {str(error).splitlines()[0]}")
        return out
    out.append(BenchDatabase("postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"))
    return out


def refuse_unless_disposable(url: str) -> None:
    """Stop before dropping the schema of a database that may be real: its name must say
    it is for benchmarks or tests."""
    name = (make_url(url).database or "").lower()
    if "bench" not in name and "test" not in name:
        raise SystemExit(
            f"BENCH_POSTGRES_URL names the database {name!r}: a benchmark drops its schema, so "
            f"its name must contain 'bench' or 'test' (never point it at a real database)"
        )


@contextmanager
def migrated(database: BenchDatabase) -> Iterator[Engine]:
    engine = make_engine(database.url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
