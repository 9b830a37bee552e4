"""The test suite wipes the database it runs on, so it refuses one whose name does not say
it is for tests, and ``make test`` (scripts/test_all_databases.py) moves a run that
DATABASE_URL points at such a PostgreSQL database to ``<name>_test`` on the same server.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from tests.conftest import ALLOW_DROP_VARIABLE, refuse_to_wipe

ROOT = Path(__file__).resolve().parent.parent
SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:5432/dpledger_test",
        "postgresql+psycopg://postgres@127.0.0.1:5432/Council_TEST_copy",
        "sqlite:////tmp/dpledger-test-x/test.db",
        "sqlite://",
    ],
)
def test_a_test_database_is_used(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_DROP_VARIABLE, raising=False)
    refuse_to_wipe(url)  # does not stop the run


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:secret@db.example.internal:5432/dpledger",
        "postgresql+psycopg://postgres@127.0.0.1:5432/dpledger_h7",
        "sqlite:////srv/dpledger/instance/dpledger.db",
        "sqlite:////home/test/instance/dpledger.db",  # the file's name counts, not its folder
    ],
)
def test_a_database_that_may_be_real_stops_the_run(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW_DROP_VARIABLE, raising=False)
    with pytest.raises(pytest.exit.Exception, match="refusing to run the tests") as stopped:
        refuse_to_wipe(url)
    assert ALLOW_DROP_VARIABLE in str(stopped.value)
    assert "secret" not in str(stopped.value)
    monkeypatch.setenv(ALLOW_DROP_VARIABLE, "1")
    refuse_to_wipe(url)  # asked for in so many words


def test_pytest_leaves_a_database_that_may_be_real_as_it_was(tmp_path: Path) -> None:
    real = tmp_path / "dpledger.db"
    with sqlite3.connect(real) as connection:
        connection.execute("CREATE TABLE precious (n INTEGER)")
        connection.execute("INSERT INTO precious VALUES (1)")
    env = {k: v for k, v in os.environ.items() if k != ALLOW_DROP_VARIABLE}
    env["DATABASE_URL"] = f"sqlite:///{real}"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_migrations.py::test_migrated_database_matches_the_models"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 4, run.stdout + run.stderr
    assert "refusing to run the tests" in run.stdout + run.stderr
    with sqlite3.connect(real) as connection:
        tables = [n for (n,) in connection.execute("SELECT name FROM sqlite_master")]
        assert tables == ["precious"]  # not migrated, not emptied
        assert connection.execute("SELECT n FROM precious").fetchall() == [(1,)]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "test_all_databases", ROOT / "scripts" / "test_all_databases.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_test_runs_on_the_test_database_database_url_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql://postgres@db.example.internal:5432/council_test"
    monkeypatch.setenv("DATABASE_URL", url)
    found, where = _script().postgres_url()  # a test database: used as it is
    assert found == "postgresql+psycopg://postgres@db.example.internal:5432/council_test"
    assert where == "DATABASE_URL"


def test_make_test_moves_off_a_database_that_may_be_real(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        psycopg.connect(SERVER, autocommit=True).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    real = f"dpledger_guard_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{real}")
    try:
        found, where = _script().postgres_url()
        assert found == f"postgresql+psycopg://postgres@127.0.0.1:5432/{real}_test"
        assert f"{real}_test" in where
        said = capsys.readouterr().out
        assert f"runs on '{real}_test' on the same server" in said
        with psycopg.connect(SERVER, autocommit=True) as connection:
            names = {
                name
                for (name,) in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{real}%",)
                )
            }
        assert names == {f"{real}_test"}  # created; the one named was never touched
        _script().postgres_url()  # a second run finds it there
    finally:
        with psycopg.connect(SERVER, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{real}_test"')
