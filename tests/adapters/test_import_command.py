"""``dpledger import``: the provider required, rejected files said so."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.models import ImportStatus, StatementImport
from adapters.statement_file import HEADER
from ledger.clock import FixedClock
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
    args = ["import", str(path), "--provider", "marqeta"]
    for _ in range(2):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "rejected: no line names a marqeta card" in result.output
        assert "already imported" not in result.output
    with cli_db() as session:
        record = session.scalars(select(StatementImport)).one()
        assert record.status is ImportStatus.REJECTED
        assert record.reason is not None and "no line names a marqeta card" in record.reason
