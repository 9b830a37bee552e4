"""``make bench`` drops the schema of the PostgreSQL database BENCH_POSTGRES_URL names:
it refuses one whose name does not say it is for benchmarks or tests."""

from __future__ import annotations

import pytest

from benchmarks.databases import refuse_unless_disposable


@pytest.mark.parametrize(
    "name", ["dpledger_bench_ledger_postings", "council_BENCH", "dpledger_test"]
)
def test_a_benchmark_or_test_database_is_used(name: str) -> None:
    refuse_unless_disposable(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")


@pytest.mark.parametrize("name", ["dpledger", "council_live", ""])
def test_any_other_database_stops_the_run(name: str) -> None:
    with pytest.raises(SystemExit, match="must contain 'bench' or 'test'"):
        refuse_unless_disposable(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
