"""``dpledger import``: the provider required, rejected files said so; two processes on one
file at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.models import ImportStatus, QuarantinedLine, StatementImport
from adapters.statement_file import HEADER, ImportReport, import_statement
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import Transfer
from portal.cli import main
from tests import factories


@pytest.fixture()
def cli_db(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return committed


def _known_card(factory: sessionmaker[Session], loaded: int = 100_000) -> str:
    with factory() as session:
        _, _, card = factories.budget_with_card(session, FixedClock(), loaded=loaded)
        session.commit()
        return card.provider_card_token


def test_the_provider_is_required(cli_db: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(f"{HEADER}\n")
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 2 and "Missing option '--provider'" in result.output
    with cli_db() as session:
        assert session.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_a_rejected_file_is_said_to_be_rejected_every_time(
    cli_db: sessionmaker[Session], tmp_path: Path
) -> None:
    token = _known_card(cli_db)
    path = tmp_path / "day.csv"
    path.write_text(f"{HEADER}\nFEE,f-1,{token},2026-04-06T10:00:00Z,1.00,GBP,,,,F,,,\n")
    runner = CliRunner()
    args = ["import", str(path), "--provider", "marqeta", "--archive", str(tmp_path / "k")]
    for _ in range(2):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "rejected: no line names a marqeta card" in result.output
        assert "already imported" not in result.output
    with cli_db() as session:
        record = session.scalars(select(StatementImport)).one()
        assert record.status is ImportStatus.REJECTED
        assert record.reason is not None and "no line names a marqeta card" in record.reason


def _race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; their results (or what they raised)."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = job()
        except Exception as error:  # reported by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_two_imports_of_one_file_at_once_apply_each_line_once(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    token = _known_card(committed, loaded=10_000_000)
    lines = [
        # Every tenth line is bad, so each batch quarantines some (the old collision).
        f"CARD_PAYMENT,r{i},{token},2026-04-06T10:00:00Z,{'0.011' if i % 10 == 0 else '0.01'},"
        "GBP,Shop,5411,,,,,"
        for i in range(1500)
    ]
    path = tmp_path / "day.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    clock = FixedClock()

    def job() -> ImportReport:
        return import_statement(committed, path, clock, provider="simulated", batch_size=50)

    results = _race(job, job)
    assert not [r for r in results if isinstance(r, Exception)], results
    finished = [r for r in results if r.stopped is None and not r.already_imported]
    others = [r for r in results if r not in finished]
    # One finished the file; the other waited and stopped, or found it imported.
    assert len(finished) == 1 and len(others) == 1, results
    assert others[0].already_imported or "by another process" in (others[0].stopped or "")
    with committed() as session:
        record = session.scalars(select(StatementImport)).one()
        assert record.status is ImportStatus.COMPLETED
        assert (record.lines_applied, record.lines_duplicate, record.lines_quarantined) == (
            1350,
            0,
            150,
        )
        assert session.scalar(select(func.count()).select_from(QuarantinedLine)) == 150
        transfers = session.scalar(
            select(func.count()).where(Transfer.idempotency_source == "simulated")
        )
        assert transfers == 1350
        assert verify_chain(session).ok and check_balances(session).ok
