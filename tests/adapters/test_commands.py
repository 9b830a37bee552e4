"""``dpledger import`` and ``dpledger inbox``, against committed data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters import inbox
from adapters.canonical import EventKind
from adapters.simulated import FORMAT, PROVIDER, SimulatedProvider
from adapters.statement_file import HEADER
from ledger.clock import FixedClock
from ledger.service import Ledger
from portal.cli import main
from tests import factories


@pytest.fixture()
def cli_db(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return committed


@pytest.mark.parametrize(
    "args",
    [
        ["import", "--help"],
        ["inbox", "--help"],
        ["inbox", "list", "--help"],
        ["inbox", "replay", "--help"],
    ],
)
def test_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "Usage" in result.output


def test_import_reports_bad_lines_and_is_idempotent(
    cli_db: sessionmaker[Session], tmp_path: Path
) -> None:
    clock = FixedClock()
    with cli_db() as session:
        _, _, card = factories.budget_with_card(session, clock, loaded=10_000)
        session.commit()
        token = card.provider_card_token
    path = tmp_path / "day.csv"
    path.write_text(
        f"{HEADER}\n"
        f"CARD_PAYMENT,cli-1,{token},2026-04-06T10:00:00Z,5.00,GBP,Shop,5411,,,,,\n"
        f"CARD_PAYMENT,cli-2,{token},2026-04-06T10:00:00Z,5.001,GBP,Shop,5411,,,,,\n"
    )
    runner = CliRunner()
    options = ["--provider", "simulated", "--archive", str(tmp_path / "kept")]
    result = runner.invoke(main, ["import", str(path), *options])
    assert result.exit_code == 0, result.output
    assert "line 3: amount" in result.output
    assert "1 applied" in result.output and "1 quarantined" in result.output
    again = runner.invoke(main, ["import", str(path), *options])
    assert again.exit_code == 0 and "already imported" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n")
    assert runner.invoke(main, ["import", str(bad), *options]).exit_code == 1


def test_inbox_list_and_replay(cli_db: sessionmaker[Session]) -> None:
    clock = FixedClock()
    with cli_db() as session:
        sim = SimulatedProvider(session, clock)
        response = sim.send(sim.event(EventKind.FEE, "no-such-card", 100, event_id="fee-1"))
        assert response.json_body["results"][0]["status"] == "parked"
    runner = CliRunner()
    listed = runner.invoke(main, ["inbox", "list"])
    assert listed.exit_code == 0, listed.output
    assert "fee" in listed.output and "parked" in listed.output and "unknown_card" in listed.output
    replayed = runner.invoke(main, ["inbox", "replay"])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 events: 1 parked" in replayed.output


def test_the_scheduler_replays_the_inbox_at_start_up(cli_db: sessionmaker[Session]) -> None:
    """`inbox_replay` is one of the scheduler's jobs (wired by the composition root), and
    runs when it starts: an event stored before a crash is applied without anyone asking."""
    listed = CliRunner().invoke(main, ["scheduler", "--jobs"])
    assert listed.exit_code == 0 and "inbox_replay" in listed.output
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=1))
    with cli_db() as session:
        _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
        sim = SimulatedProvider(session, clock)
        body = sim.body(sim.event(EventKind.FEE, card.provider_card_token, 250, event_id="f-9"))
        inbox.store(
            session, provider=PROVIDER, channel="webhook", body=body, headers={},
            received_at=clock.now(), events=FORMAT.split(body, "webhook"),
        )  # fmt: skip
        session.commit()
        budget_id = budget.id
    result = CliRunner().invoke(main, ["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "inbox_replay: ran (1 replayed (1 applied), 0 failed)" in result.output
    with cli_db() as session:
        assert Ledger(session, clock).balances(budget_id).posted == 10_000 - 250
