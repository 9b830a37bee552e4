"""``dpledger demo generate``: its help, a small population with its ground truth file
and scores, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Person
from portal.cli import main


@pytest.fixture()
def cli_database(
    engine: Engine, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return committed


def test_help() -> None:
    result = CliRunner().invoke(main, ["demo", "generate", "--help"])
    assert result.exit_code == 0
    for option in ("--people", "--months", "--seed", "--ground-truth", "--today", "--score"):
        assert option in result.output


def test_generate_writes_the_ground_truth_and_scores_the_monitors(
    cli_database: sessionmaker[Session], tmp_path: Path
) -> None:
    truth = tmp_path / "truth.json"
    args = ["demo", "generate", "--people", "8", "--seed", "4", "--today", "2026-04-20"]
    result = CliRunner().invoke(main, [*args, "--ground-truth", str(truth), "--score"])
    assert result.exit_code == 0, result.output
    assert "generated " in result.output and "ground truth: " in result.output
    assert "arrears" in result.output and "recall" in result.output
    data = json.loads(truth.read_text())
    assert data["population"] == {
        "people": 8,
        "months": 6,
        "seed": 4,
        "today": "2026-04-20",
        "as_of": "2026-04-20T08:00:00+00:00",
        "ref_prefix": "GEN",
    }
    with cli_database() as session:
        people = session.execute(select(func.count()).select_from(Person)).scalar_one()
    assert people == len(data["person_ids"]) >= 8

    again = CliRunner().invoke(main, args)
    assert again.exit_code != 0 and "already here" in again.output


def test_bad_options_are_refused_and_change_nothing(cli_database: sessionmaker[Session]) -> None:
    for args in (
        ["--people", "0"],
        ["--people", "5", "--months", "2"],
        ["--people", "5", "--prefix", "A-B"],
    ):
        result = CliRunner().invoke(main, ["demo", "generate", *args])
        assert result.exit_code == 2, result.output
    with cli_database() as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 0
