"""On the demo's books, ``dpledger ledger verify`` and ``dpledger ledger check`` pass, and
after a direct SQL edit they fail naming the problem (issue 2, "Done when")."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Account, Phase, Transfer, TransferCode
from portal.auth import passwords
from portal.cli import main
from portal.config import TestConfig as WebConfig
from portal.demo import load_demo
from tests.conftest import append_only_triggers_off

TODAY = date(2026, 4, 20)


@pytest.fixture()
def demo(committed: sessionmaker[Session]) -> sessionmaker[Session]:
    with committed() as session, session.begin():
        load_demo(session, TODAY, password_hasher=passwords.hasher(WebConfig.ARGON2_PROFILE))
    return committed


def ledger_command(engine: Engine, command: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["ledger", command], env={"DATABASE_URL": url})


def edit(engine: Engine, sql: str, **params: object) -> None:
    """A direct SQL edit, by someone who may turn the append-only triggers off."""
    with engine.begin() as connection, append_only_triggers_off(connection):
        connection.execute(text(sql), params)


def assert_both_pass(engine: Engine, transfers: int) -> None:
    verify = ledger_command(engine, "verify")
    assert verify.exit_code == 0, verify.output
    assert verify.stdout == f"ok: the chain over {transfers} transfers is whole\n"
    check = ledger_command(engine, "check")
    assert check.exit_code == 0, check.output
    assert check.stdout.startswith("ok: posted debits = posted credits")


def test_an_edited_card_payment_is_named_by_verify_and_check(
    engine: Engine, demo: sessionmaker[Session]
) -> None:
    with demo() as session:
        transfers = session.execute(select(func.count()).select_from(Transfer)).scalar_one()
        payment = (
            session.execute(
                select(Transfer)
                .where(
                    Transfer.code == TransferCode.CARD_SPEND, Transfer.phase == Phase.POST_PENDING
                )
                .order_by(Transfer.id)
            )
            .scalars()
            .first()
        )
    assert payment is not None and transfers > payment.id  # a payment in the middle
    assert_both_pass(engine, transfers)

    edit(engine, "UPDATE transfers SET amount = amount + 100 WHERE id = :id", id=payment.id)

    verify = ledger_command(engine, "verify")
    assert verify.exit_code == 1
    assert f"BROKEN: transfer {payment.id} does not match its chain hash" in verify.stderr
    check = ledger_command(engine, "check")
    assert check.exit_code == 1
    with demo() as session:
        for account_id, total in (
            (payment.debit_account_id, "debits_posted"),
            (payment.credit_account_id, "credits_posted"),
        ):
            stored = session.execute(
                select(getattr(Account, total)).where(Account.id == account_id)
            ).scalar_one()
            assert (
                f"PROBLEM: account {account_id}: {total} is {stored}p but its transfers add up "
                f"to {stored + 100}p"
            ) in check.stderr


def test_an_edited_balance_is_named_by_check(engine: Engine, demo: sessionmaker[Session]) -> None:
    with demo() as session:
        transfers = session.execute(select(func.count()).select_from(Transfer)).scalar_one()
        budget_id = session.execute(
            select(Transfer.credit_account_id).where(Transfer.code == TransferCode.LOAD).limit(1)
        ).scalar_one()
    assert_both_pass(engine, transfers)

    edit(
        engine,
        "UPDATE accounts SET credits_posted = credits_posted + 5000 WHERE id = :id",
        id=budget_id,
    )

    check = ledger_command(engine, "check")
    assert check.exit_code == 1
    assert f"PROBLEM: account {budget_id}: credits_posted is " in check.stderr
    assert "PROBLEM: trial balance: posted debits" in check.stderr
    # The transfer log itself was not touched: the chain is still whole.
    assert ledger_command(engine, "verify").exit_code == 0
