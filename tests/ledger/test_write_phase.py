"""A posting is written whole or not at all, even when the database refuses its writes.

Two ways a posting could leave half of itself in the transaction: a linked set whose
later transfer's key (``key#2``) was already taken, found only by the database's unique
index; and any other refusal of the write phase's statements. The first is found before
anything is written; the second makes the transaction uncommittable until rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from ledger import postings
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.errors import (
    HalfWrittenPosting,
    IdempotencyConflict,
    InvalidRecord,
    LedgerWriteFailed,
)
from ledger.models import Transfer, TransferCode
from ledger.models.accounts import LedgerHead
from tests import factories


def _transfers(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def _books_agree(session: Session) -> None:
    assert check_balances(session).ok
    assert verify_chain(session).ok


@contextmanager
def _household(
    committed: sessionmaker[Session], clock: FixedClock
) -> Iterator[tuple[int, int, int]]:
    """(budget account, companion pot, the pot's account) of a household, committed."""
    with committed() as session, session.begin():
        h = factories.household(session, clock, loaded=10_000, pot=1_000)
        ids = (h.budget.id, h.pot.id, h.pot.account_id)
    yield ids


# -- a linked set's later keys -------------------------------------------------------


def test_a_linked_set_whose_later_key_is_taken_is_refused_before_anything_is_written(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, pot, _pot_account):
        with committed() as session:
            ledger = CardPayments(session, clock)
            ledger.load(budget, 100, source="t", key="K#2")
            before = _transfers(session)
            # Its second transfer (the pot's top-up) would take the key "K#2".
            with pytest.raises(IdempotencyConflict) as refused:
                ledger.load(budget, 300, source="t", key="K", pot_top_ups={pot: 100})
            assert "'K#2'" in refused.value.detail
            assert _transfers(session) == before
            session.commit()  # what the transaction did before stands
        with committed() as session:
            assert CardPayments(session, clock).balances(budget).posted == 10_000 - 1_000 + 100
            _books_agree(session)


def test_a_later_key_of_a_linked_set_cannot_be_posted_on_its_own(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, pot, _pot_account):
        with committed() as session, session.begin():
            CardPayments(session, clock).load(
                budget, 300, source="t", key="K", pot_top_ups={pot: 100}
            )
        with committed() as session, session.begin():
            ledger = CardPayments(session, clock)
            with pytest.raises(IdempotencyConflict, match="later transfer of the linked set"):
                ledger.load(budget, 100, source="t", key="K#2")
            # The set itself replays as before.
            assert len(ledger.load(budget, 300, source="t", key="K", pot_top_ups={pot: 100})) == 2
        with committed() as session:
            _books_agree(session)


def test_later_keys_are_checked_inside_a_deferred_block_and_after_reading_ahead(
    session: Session, clock: FixedClock
) -> None:
    h = factories.household(session, clock, loaded=10_000, pot=1_000)
    ledger = CardPayments(session, clock)
    session.commit()
    with postings.deferred(session):
        # Read ahead as unused, as an import does: posting the set uses them up.
        postings.prefetch_keys(session, "t", ["A", "A#2", "B#2", "B"])
        ledger.load(h.budget.id, 300, source="t", key="A", pot_top_ups={h.pot.id: 100})
        with pytest.raises(IdempotencyConflict):
            ledger.load(h.budget.id, 100, source="t", key="A#2")  # waiting in memory
        ledger.load(h.budget.id, 100, source="t", key="B#2")
        with pytest.raises(IdempotencyConflict):
            ledger.load(h.budget.id, 300, source="t", key="B", pot_top_ups={h.pot.id: 100})
    with pytest.raises(IdempotencyConflict):
        ledger.load(h.budget.id, 100, source="t", key="A#2")  # written by now
    assert ledger.balances(h.budget.id).posted == 10_000 - 1_000 + 200 + 100
    _books_agree(session)


def test_a_key_that_leaves_no_room_for_its_linked_keys_is_refused(
    session: Session, clock: FixedClock
) -> None:
    h = factories.household(session, clock, loaded=10_000, pot=1_000)
    ledger = CardPayments(session, clock)
    before = _transfers(session)
    with pytest.raises(InvalidRecord):
        ledger.load(h.budget.id, 100, source="t", key="k" * 201)
    with pytest.raises(InvalidRecord):  # "k…k#2" would be 201 characters
        ledger.load(h.budget.id, 300, source="t", key="k" * 199, pot_top_ups={h.pot.id: 100})
    assert _transfers(session) == before
    # It fits: "k…k#2" in its column, and the set's link group (longer than its column
    # as "source:key") in its own, so the set replays whole.
    posted = ledger.load(h.budget.id, 300, source="t", key="k" * 198, pot_top_ups={h.pot.id: 1})
    assert [t.idempotency_key for t in posted] == ["k" * 198, "k" * 198 + "#2"]
    again = ledger.load(h.budget.id, 300, source="t", key="k" * 198, pot_top_ups={h.pot.id: 1})
    assert again == posted
    _books_agree(session)


# -- the database refusing the writes ------------------------------------------------


def _row_outside_the_ledger(session: Session, transfer_id: int, budget: int) -> None:
    """A transfer written straight into the table, where the ledger will write next (as
    someone with write access might): the engine's insert then fails on its id."""
    transfer = session.get(Transfer, 1)
    assert transfer is not None
    session.connection().execute(
        insert(Transfer.__table__).values(
            id=transfer_id,
            debit_account_id=transfer.debit_account_id,
            credit_account_id=budget,
            amount=1,
            code=TransferCode.LOAD,
            phase=transfer.phase,
            idempotency_source="outside",
            idempotency_key=f"outside-{transfer_id}",
            request_digest="0" * 64,
            effective_at=transfer.effective_at,
            created_at=transfer.created_at,
            chain_hash="0" * 64,
        )
    )


def _head(session: Session) -> int:
    return session.execute(select(LedgerHead.last_transfer_id)).scalar_one()


def test_a_refused_write_cannot_be_committed_and_a_rollback_leaves_the_books_whole(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, pot, pot_account):
        with committed() as session:
            ledger = CardPayments(session, clock)
            ledger.load(budget, 100, source="t", key="first")
            # The set's second transfer collides: on SQLite its first is already in.
            _row_outside_the_ledger(session, _head(session) + 2, budget)
            with pytest.raises(LedgerWriteFailed) as failed:
                ledger.load(budget, 300, source="t", key="set", pot_top_ups={pot: 100})
            assert failed.value.code == "ledger_write_failed"
            assert isinstance(failed.value.__cause__, session.bind.dialect.loaded_dbapi.Error)
            with pytest.raises(HalfWrittenPosting):
                session.commit()
            session.rollback()
        with committed() as session:
            ledger = CardPayments(session, clock)
            assert ledger.balances(budget).posted == 10_000 - 1_000
            _books_agree(session)
            # Tried again in a transaction of its own, it posts whole.
            ledger.load(budget, 300, source="t", key="set", pot_top_ups={pot: 100})
            session.commit()  # the session's next transaction commits as usual
        with committed() as session:
            ledger = CardPayments(session, clock)
            assert ledger.balances(budget).posted == 10_000 - 1_000 + 200
            assert ledger.balances(pot_account).posted == 1_000 + 100
            _books_agree(session)


def test_a_refused_write_inside_a_savepoint_is_undone_with_it(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, pot, _pot_account):
        with committed() as session:
            ledger = CardPayments(session, clock)
            ledger.load(budget, 100, source="t", key="before")
            with pytest.raises(LedgerWriteFailed), session.begin_nested():
                _row_outside_the_ledger(session, _head(session) + 2, budget)
                ledger.load(budget, 300, source="t", key="set", pot_top_ups={pot: 100})
            ledger.load(budget, 50, source="t", key="after")  # the cache is read afresh
            session.commit()
        with committed() as session:
            assert CardPayments(session, clock).balances(budget).posted == 10_000 - 1_000 + 150
            _books_agree(session)


def test_a_savepoint_holding_a_refused_write_cannot_be_released(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, _pot, _pot_account):
        with committed() as session:
            ledger = CardPayments(session, clock)
            savepoint = session.begin_nested()
            _row_outside_the_ledger(session, _head(session) + 1, budget)
            with pytest.raises(LedgerWriteFailed):
                ledger.load(budget, 300, source="t", key="one")
            with pytest.raises(HalfWrittenPosting):
                savepoint.commit()
            savepoint.rollback()
            session.commit()
        with committed() as session:
            assert CardPayments(session, clock).balances(budget).posted == 10_000 - 1_000
            _books_agree(session)


def test_a_deferred_block_whose_write_is_refused_cannot_be_committed(
    committed: sessionmaker[Session], clock: FixedClock
) -> None:
    with _household(committed, clock) as (budget, _pot, _pot_account):
        with committed() as session:
            ledger = CardPayments(session, clock)
            _row_outside_the_ledger(session, _head(session) + 3, budget)
            with pytest.raises(LedgerWriteFailed), postings.deferred(session):
                for n in range(5):
                    ledger.load(budget, 10, source="t", key=f"batch-{n}")
            with pytest.raises(HalfWrittenPosting):
                session.commit()
            session.rollback()
        with committed() as session:
            assert CardPayments(session, clock).balances(budget).posted == 10_000 - 1_000
            _books_agree(session)
