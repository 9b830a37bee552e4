"""``dpledger import``: the provider required, rejected files said so, imports listed and
shown, quarantined lines tried again; and two processes on one file at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.models import ImportStatus, QuarantinedLine, QuarantineStatus, StatementImport
from adapters.statement_file import HEADER, ImportReport, import_statement
from adapters.statement_quarantine import retry_quarantined
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.models import CardKind, Transfer
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


def _enrol(factory: sessionmaker[Session], token: str) -> None:
    clock = FixedClock()
    with factory() as session:
        who = factories.person(session, clock)
        enrol = Enrolment(session, clock)
        budget = enrol.open_personal_budget(who)
        enrol.issue_card(
            who,
            kind=CardKind.PRIMARY,
            provider="simulated",
            provider_card_token=token,
            last4="4321",
            budget=budget,
        )
        session.commit()


def test_the_provider_is_required(cli_db: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(f"{HEADER}\n")
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 2 and "--provider is required" in result.output
    nothing = CliRunner().invoke(main, ["import"])
    assert nothing.exit_code == 2 and "give one of FILE" in nothing.output
    with cli_db() as session:
        assert session.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_import_list_show_and_retry(cli_db: sessionmaker[Session], tmp_path: Path) -> None:
    token = _known_card(cli_db)
    path = tmp_path / "day.csv"
    path.write_text(
        f"{HEADER}\n"
        f"CARD_PAYMENT,c-1,{token},2026-04-06T10:00:00Z,5.00,GBP,Shop,5411,,,,,\n"
        "CARD_PAYMENT,c-2,tok_later,2026-04-06T11:00:00Z,7.00,GBP,Shop,5411,,,,,\n"
    )
    runner = CliRunner()
    kept = ["--archive", str(tmp_path / "kept")]
    result = runner.invoke(main, ["import", str(path), "--provider", "simulated", *kept])
    assert result.exit_code == 0, result.output
    assert "line 3: unknown_card" in result.output and "1 quarantined" in result.output
    with cli_db() as session:
        record = session.scalars(select(StatementImport)).one()
        import_id = record.id
    listed = runner.invoke(main, ["import", "--list"])
    assert listed.exit_code == 0, listed.output
    assert f"{import_id}" in listed.output and "day.csv" in listed.output
    assert "completed" in listed.output and "1 quarantined" in listed.output
    shown = runner.invoke(main, ["import", "--show", str(import_id)])
    assert shown.exit_code == 0, shown.output
    assert "line        3  quarantined" in shown.output and "tok_later" in shown.output
    assert "unknown_card" in shown.output and "kept as" in shown.output

    _enrol(cli_db, "tok_later")
    retried = runner.invoke(main, ["import", "--retry-quarantined", str(path)])
    assert retried.exit_code == 0, retried.output
    assert "1 quarantined lines tried again: 1 applied" in retried.output
    assert "0 still quarantined" in retried.output
    again = runner.invoke(main, ["import", "--retry-quarantined", str(import_id)])
    assert again.exit_code == 0 and "0 quarantined lines tried again" in again.output
    shown = runner.invoke(main, ["import", "--show", str(path)])
    assert "line        3  applied     tries 2" in shown.output
    with cli_db() as session:
        assert session.scalar(select(func.count()).where(Transfer.idempotency_key == "c-2")) == 1


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
        import_id = session.scalars(select(StatementImport.id)).one()
    retry = runner.invoke(main, ["import", "--retry-quarantined", str(import_id)])
    assert retry.exit_code == 1 and "was rejected" in retry.output
    missing = runner.invoke(main, ["import", "--show", str(import_id + 1)])
    assert missing.exit_code == 1 and "no statement import" in missing.output


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


def test_two_retries_at_once_apply_each_line_once(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    token = _known_card(committed)
    lines = [f"FEE,k{i},tok_race,2026-04-06T10:00:00Z,0.01,GBP,,,,F{i},,," for i in range(300)]
    path = tmp_path / "day.csv"
    path.write_text(
        "\n".join([HEADER, f"FEE,k-known,{token},2026-04-06T10:00:00Z,0.01,GBP,,,,F,,,", *lines])
        + "\n"
    )
    clock = FixedClock()
    first = import_statement(committed, path, clock, provider="simulated")
    assert first.quarantined == 300
    _enrol(committed, "tok_race")

    def job() -> ImportReport:
        return retry_quarantined(committed, clock, first.import_id, batch_size=20)

    results = _race(job, job)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.applied for r in results) == 300
    assert sum(r.duplicate for r in results) == 0
    with committed() as session:
        statuses = session.execute(
            select(QuarantinedLine.status, func.count()).group_by(QuarantinedLine.status)
        ).all()
        assert [tuple(row) for row in statuses] == [(QuarantineStatus.APPLIED, 300)]
        record = session.get(StatementImport, first.import_id)
        assert record is not None
        assert (record.lines_applied, record.lines_quarantined) == (301, 0)
        assert session.scalar(select(func.count()).where(Transfer.idempotency_key.like("k%"))) == (
            301
        )
        assert verify_chain(session).ok and check_balances(session).ok
