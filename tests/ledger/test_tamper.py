"""Tamper evidence: changes made to committed data behind the ledger's back are found,
and the first broken link is named, by ``verify_chain`` and by ``dpledger ledger verify``.
``dpledger ledger check`` finds account totals changed behind the ledger's back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.card_payments import CardPayments
from ledger.chain import link_hash, verify_chain
from ledger.clock import FixedClock
from ledger.models import Transfer
from portal.cli import main
from tests import factories
from tests.conftest import append_only_triggers_off


@dataclass
class Books:
    """Committed transfers to tamper with, by what they are."""

    engine: Engine
    factory: sessionmaker[Session]
    budget_id: int
    pot_account_id: int
    load: int
    allocation: int
    hold: int
    posting: int
    fee: int
    contribution: int
    refund: int

    @property
    def last(self) -> int:
        return self.refund

    def verify(self) -> Any:
        with self.factory() as session:
            return verify_chain(session)

    def execute(self, sql: str, **params: Any) -> None:
        """Change the log in SQL, as someone with the right to alter the tables would: the
        database's append-only triggers are turned off first."""
        with self.engine.begin() as connection, append_only_triggers_off(connection):
            connection.execute(text(sql), params)

    def row(self, transfer_id: int) -> dict[str, Any]:
        with self.engine.connect() as connection:
            return dict(
                connection.execute(select(Transfer.__table__).where(Transfer.id == transfer_id))
                .one()
                ._mapping
            )

    def insert(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(Transfer).values(**row))


@pytest.fixture()
def books(engine: Engine, committed: sessionmaker[Session]) -> Iterator[Books]:
    clock = FixedClock()
    with committed() as session, session.begin():
        h = factories.household(session, clock)
        ledger = CardPayments(session, clock)
        (load,) = ledger.load(h.budget.id, 10_000, source="test", key="load")
        (allocation,) = ledger.allocate_to_pot(h.pot.id, 2_000, source="test", key="pot")
        hold = ledger.authorise(h.card.id, 1_500, source="test", key="auth", merchant_name="Boots")
        assert hold.hold_id is not None
        (posting,) = ledger.post_hold(hold.hold_id, 1_500, source="test", key="post")
        (fee,) = ledger.charge_fee(h.budget.id, 100, source="test", key="fee")
        (contribution,) = ledger.receive_contribution(h.budget.id, 500, source="test", key="c")
        (refund,) = ledger.refund(h.card.id, 200, source="test", key="refund")
    books = Books(
        engine=engine,
        factory=committed,
        budget_id=h.budget.id,
        pot_account_id=h.pot.account_id,
        load=load.id,
        allocation=allocation.id,
        hold=hold.hold_id,
        posting=posting.id,
        fee=fee.id,
        contribution=contribution.id,
        refund=refund.id,
    )
    assert books.verify().ok
    yield books


def cli(engine: Engine, *args: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["ledger", *args], env={"DATABASE_URL": url})


def test_untouched_books_verify(books: Books) -> None:
    report = books.verify()
    assert (report.ok, report.transfers_checked, report.problem) == (True, books.last, None)


@pytest.mark.parametrize(
    ("column", "new_value"),
    [
        ("amount", "amount + 1"),
        ("debit_account_id", ":other_account"),
        ("credit_account_id", ":other_account"),
        ("idempotency_key", "'rewritten'"),
        ("merchant_name", "'Someone else'"),
        ("code", "'refund'"),
    ],
)
def test_an_updated_transfer_is_named(books: Books, column: str, new_value: str) -> None:
    target = books.fee  # a middle transfer: budget -> fees
    books.execute(
        f"UPDATE transfers SET {column} = {new_value} WHERE id = :id",
        id=target,
        other_account=books.pot_account_id,
    )
    report = books.verify()
    assert not report.ok
    assert report.transfer_id == target
    assert f"transfer {target} " in (report.problem or "")


def test_a_transfer_rewritten_with_its_own_hash_breaks_the_next_link(books: Books) -> None:
    target = books.fee
    row = books.row(target)
    before = books.row(target - 1)
    forged = {**row, "amount": row["amount"] * 10}
    forged_hash = link_hash(before["chain_hash"], forged)
    books.execute(
        "UPDATE transfers SET amount = :amount, chain_hash = :hash WHERE id = :id",
        amount=forged["amount"],
        hash=forged_hash,
        id=target,
    )
    report = books.verify()
    assert not report.ok
    assert report.transfer_id == target + 1


def test_a_deleted_middle_transfer_is_named(books: Books) -> None:
    target = books.allocation
    books.execute("DELETE FROM transfers WHERE id = :id", id=target)
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, target)
    assert "missing" in (report.problem or "")


def test_a_deleted_last_transfer_is_named(books: Books) -> None:
    books.execute("DELETE FROM transfers WHERE id = :id", id=books.last)
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, books.last)
    assert "missing" in (report.problem or "")


@pytest.mark.parametrize("hash_known", [False, True], ids=["made_up_hash", "recomputed_hash"])
def test_a_forged_transfer_added_at_the_end_is_named(books: Books, hash_known: bool) -> None:
    last = books.row(books.last)
    forged = {
        **last,
        "id": books.last + 1,
        "idempotency_key": "forged",
        "amount": 99_999,
        "chain_hash": "f" * 64,
    }
    if hash_known:  # someone who knows the chain format, but cannot move the head
        forged["chain_hash"] = link_hash(last["chain_hash"], forged)
    books.insert(forged)
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, books.last + 1)


def test_a_transfer_replaced_by_a_forgery_is_named(books: Books) -> None:
    target = books.contribution
    original = books.row(target)
    books.execute("DELETE FROM transfers WHERE id = :id", id=target)
    books.insert({**original, "amount": original["amount"] + 10_000})
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, target)


def test_cli_verify_passes_then_names_the_broken_link(engine: Engine, books: Books) -> None:
    result = cli(engine, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok")
    assert f"{books.last} transfers" in result.stdout

    books.execute("UPDATE transfers SET amount = amount + 1 WHERE id = :id", id=books.fee)
    result = cli(engine, "verify")
    assert result.exit_code == 1, result.output
    assert f"transfer {books.fee} " in result.stderr
    assert "ok" not in result.stdout


def test_cli_verify_names_a_deleted_transfer(engine: Engine, books: Books) -> None:
    books.execute("DELETE FROM transfers WHERE id = :id", id=books.last)
    result = cli(engine, "verify")
    assert result.exit_code == 1, result.output
    assert f"transfer {books.last} is missing" in result.stderr


def test_cli_check_passes_then_names_an_account_changed_behind_the_ledger(
    engine: Engine, books: Books
) -> None:
    result = cli(engine, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok")

    books.execute(
        "UPDATE accounts SET credits_posted = credits_posted + 5000 WHERE id = :id",
        id=books.budget_id,
    )
    result = cli(engine, "check")
    assert result.exit_code == 1, result.output
    assert f"account {books.budget_id}: credits_posted" in result.stderr
    assert "trial balance" in result.stderr


@pytest.mark.parametrize(
    ("column", "value"),
    [("code", "bogus"), ("phase", "bogus"), ("effective_at", "garbage"), ("created_at", "")],
)
def test_a_value_the_ledger_cannot_read_names_its_transfer(
    engine: Engine, books: Books, column: str, value: str
) -> None:
    target = books.fee
    if engine.dialect.name == "postgresql" and column in ("effective_at", "created_at"):
        # A timestamp column holds only timestamps there: the edit itself is refused.
        with pytest.raises(DataError):
            books.execute(
                f"UPDATE transfers SET {column} = :value WHERE id = :id", value=value, id=target
            )
        return
    books.execute(f"UPDATE transfers SET {column} = :value WHERE id = :id", value=value, id=target)
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, target)
    assert report.problem is not None
    assert report.problem.startswith(f"transfer {target} has an unreadable {column} ")
    assert report.transfers_checked == target - 1

    result = cli(engine, "verify")
    assert result.exit_code == 1, result.output
    assert f"transfer {target} has an unreadable {column} " in result.stderr
    assert "Traceback" not in result.output


def test_an_edit_is_refused_and_one_made_with_the_triggers_off_is_still_named(
    engine: Engine, books: Books
) -> None:
    edit = "UPDATE transfers SET amount = amount + 1 WHERE id = :id"
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
        connection.execute(text(edit), {"id": books.fee})
    assert books.verify().ok

    books.execute(edit, id=books.fee)  # someone who may alter the table turns them off
    report = books.verify()
    assert (report.ok, report.transfer_id) == (False, books.fee)
    result = cli(engine, "verify")
    assert result.exit_code == 1, result.output
    assert f"transfer {books.fee} does not match its chain hash" in result.stderr

    # The triggers are back once the edit is made: the next one is refused again.
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM transfers WHERE id = :id"), {"id": books.fee})
