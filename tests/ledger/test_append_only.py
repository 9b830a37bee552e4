"""Transfers are never updated or deleted: the database refuses it (triggers, migration
0012), and so does a session, naming the transfer, before anything reaches the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.errors import TransferIsImmutable
from ledger.models import Transfer
from tests import factories


@pytest.fixture()
def transfer_id(session: Session, clock: FixedClock) -> int:
    _, budget, _ = factories.budget_with_card(session, clock)
    (load,) = CardPayments(session, clock).load(budget.id, 5000, source="test", key="load")
    session.expire_all()
    return load.id


def amount_of(session: Session, transfer_id: int) -> int | None:
    return session.execute(
        select(Transfer.amount).where(Transfer.id == transfer_id)
    ).scalar_one_or_none()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transfers SET amount = amount + 1 WHERE id = :id",
        "UPDATE transfers SET merchant_name = 'Someone else' WHERE id = :id",
        "DELETE FROM transfers WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_transfer(
    session: Session, transfer_id: int, sql: str
) -> None:
    with pytest.raises(IntegrityError, match="append-only"), session.begin_nested():
        session.execute(text(sql), {"id": transfer_id})
    assert amount_of(session, transfer_id) == 5000


def test_postgresql_refuses_to_truncate_the_transfers(session: Session, transfer_id: int) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(IntegrityError, match="append-only"), session.begin_nested():
        session.execute(text("TRUNCATE transfers CASCADE"))
    assert amount_of(session, transfer_id) == 5000


def test_a_session_refuses_to_flush_a_changed_transfer(session: Session, transfer_id: int) -> None:
    transfer = session.get(Transfer, transfer_id)
    assert transfer is not None
    transfer.amount += 1
    with pytest.raises(TransferIsImmutable, match=f"transfer {transfer_id} cannot be changed"):
        session.flush()
    session.expunge_all()  # drop the refused change; the database never saw it
    assert amount_of(session, transfer_id) == 5000


def test_a_session_refuses_to_delete_a_transfer(session: Session, transfer_id: int) -> None:
    transfer = session.get(Transfer, transfer_id)
    session.delete(transfer)
    with pytest.raises(TransferIsImmutable, match=f"transfer {transfer_id} cannot be deleted"):
        session.flush()
    session.expunge_all()  # drop the refused change; the database never saw it
    assert amount_of(session, transfer_id) == 5000


@pytest.mark.parametrize(
    "statement",
    [
        update(Transfer).values(amount=1),
        update(Transfer.__table__).values(amount=1),
        delete(Transfer),
        delete(Transfer.__table__),
    ],
    ids=["orm_update", "core_update", "orm_delete", "core_delete"],
)
def test_a_session_refuses_bulk_updates_and_deletes_of_transfers(
    session: Session, transfer_id: int, statement: object
) -> None:
    with pytest.raises(TransferIsImmutable):
        session.execute(statement)  # type: ignore[call-overload]
    assert amount_of(session, transfer_id) == 5000


def test_a_transfer_read_and_left_as_it_was_flushes(session: Session, transfer_id: int) -> None:
    transfer = session.get(Transfer, transfer_id)
    assert transfer is not None
    transfer.amount = transfer.amount  # a set that changes nothing is not a change
    session.flush()
    assert amount_of(session, transfer_id) == 5000
