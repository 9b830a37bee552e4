"""``dpledger ledger verify`` and ``check`` read one state of the books while postings go
on: they never report tampering that is only postings committing between their
statements, and on SQLite they never hold the write lock that postings need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.db import read_only_snapshot
from ledger.models import Transfer
from portal.cli import main
from tests import factories

pytestmark = [pytest.mark.concurrency, pytest.mark.timeout(300)]


@dataclass
class Poster:
    """A thread posting loads, one per transaction, until told to stop."""

    factory: sessionmaker[Session]
    budget_id: int
    stop: threading.Event = field(default_factory=threading.Event)
    posted: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def post_one(self) -> None:
        with self.factory() as session, session.begin():
            CardPayments(session, FixedClock()).load(
                self.budget_id, 100, source="poster", key=f"load-{self.posted}"
            )
        self.posted += 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.post_one()
        except BaseException as error:  # reported by the test
            self.errors.append(error)


@pytest.fixture()
def budget_id(committed: sessionmaker[Session]) -> int:
    clock = FixedClock()
    with committed() as session, session.begin():
        _, budget, _ = factories.budget_with_card(session, clock, loaded=10_000)
        ledger = CardPayments(session, clock)
        for n in range(300):  # enough rows that reading them takes a while
            ledger.load(budget.id, 1, source="setup", key=f"setup-{n}")
        return budget.id


@pytest.fixture()
def poster(committed: sessionmaker[Session], budget_id: int) -> Iterator[Poster]:
    poster = Poster(committed, budget_id)
    thread = threading.Thread(target=poster.run)
    thread.start()
    try:
        yield poster
    finally:
        poster.stop.set()
        thread.join(timeout=120)
    assert not thread.is_alive(), "the posting thread never finished"


def cli(engine: Engine, *args: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["ledger", *args], env={"DATABASE_URL": url})


def count_transfers(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def test_verify_and_check_report_ok_every_time_while_postings_commit(
    engine: Engine, poster: Poster
) -> None:
    runs = 12
    for _ in range(runs):
        for command in ("verify", "check"):
            result = cli(engine, command)
            assert result.exit_code == 0, f"{command}: {result.output}"
            assert result.stdout.startswith("ok"), result.output
    poster.stop.set()
    assert not poster.errors, poster.errors
    # The race was real: postings committed while the commands ran.
    assert poster.posted >= runs, poster.posted


def test_a_read_only_snapshot_sees_one_state_and_never_blocks_a_posting(
    engine: Engine, committed: sessionmaker[Session], budget_id: int
) -> None:
    poster = Poster(committed, budget_id)
    with read_only_snapshot(engine) as snapshot:
        before = count_transfers(snapshot)
        thread = threading.Thread(target=_post_once, args=(poster,))
        thread.start()
        thread.join(timeout=10)
        # Under BEGIN IMMEDIATE (SQLite) the posting would wait for this transaction.
        assert not thread.is_alive(), "a posting waited for a read-only snapshot"
        assert not poster.errors, poster.errors
        assert poster.posted == 1
        assert count_transfers(snapshot) == before  # still the state of its first read
    with committed() as session:
        assert count_transfers(session) == before + 1


def _post_once(poster: Poster) -> None:
    try:
        poster.post_one()
    except BaseException as error:  # reported by the test
        poster.errors.append(error)
