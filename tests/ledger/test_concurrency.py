"""No overdraft, no lost posting, one transfer per key: under real concurrent requests.

Each test commits its setup, then starts many threads that wait at a barrier and race,
each with its own session and its own transaction, as concurrent web requests or
provider webhooks would. SQLite serialises writers with ``BEGIN IMMEDIATE`` and a busy
timeout; PostgreSQL serialises postings on the ``ledger_head`` row lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.card_payments import AuthorisationResult, CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.db import make_engine
from ledger.errors import InsufficientFunds
from ledger.models import Authorisation, Phase, Transfer, TransferCode
from tests import factories

pytestmark = [pytest.mark.concurrency, pytest.mark.timeout(300)]

THREADS = 50
T = TypeVar("T")


@dataclass
class Race:
    """What each racing thread got back, or the error it raised."""

    results: dict[int, Any] = field(default_factory=dict)
    errors: dict[int, BaseException] = field(default_factory=dict)


@pytest.fixture()
def racing(engine: Engine) -> Iterator[Engine]:
    """An engine with a connection for every thread, so that all of them are connected
    before the race starts and none waits for the pool once it has."""
    url = engine.url.render_as_string(hide_password=False)
    racing_engine = make_engine(url, pool_size=THREADS, max_overflow=0, pool_timeout=60)
    yield racing_engine
    racing_engine.dispose()


def race(
    racing: Engine,
    factory: sessionmaker[Session],
    work: Callable[[int, Session], T],
    threads: int = THREADS,
) -> Race:
    """Run ``work(i, session)`` in ``threads`` threads at once, each with its own session
    and its own transaction (committed if it returns, rolled back if it raises)."""
    barrier = threading.Barrier(threads, timeout=60)
    outcome = Race()
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            with racing.connect() as connection, factory(bind=connection) as session:
                barrier.wait()
                with session.begin():
                    result = work(i, session)
            with lock:
                outcome.results[i] = result
        except BaseException as error:  # every failure is reported by the test
            with lock:
                outcome.errors[i] = error

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert not any(worker.is_alive() for worker in workers), "a racing thread never finished"
    return outcome


def count_transfers(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Transfer)).scalar_one()


def assert_books_sound(session: Session) -> None:
    report = check_balances(session)
    assert report.ok, report.problems()
    chain = verify_chain(session)
    assert chain.ok, chain.problem


def assert_one_hold_per_approval(
    session: Session, card_id: int, account_id: int, results: list[AuthorisationResult]
) -> None:
    """Every approval has exactly one hold of its amount on the account; declines none."""
    approved = [r for r in results if r.approved]
    holds = session.execute(
        select(Transfer).where(
            Transfer.debit_account_id == account_id, Transfer.phase == Phase.PENDING
        )
    ).scalars()
    by_id = {t.id: t for t in holds}
    assert sorted(r.hold_id for r in approved if r.hold_id is not None) == sorted(by_id)
    decisions = session.execute(
        select(Authorisation).where(Authorisation.card_id == card_id)
    ).scalars()
    for decision in decisions:
        if decision.hold_id is None:
            assert decision.decline_reason == "insufficient_funds"
        else:
            assert by_id[decision.hold_id].amount == decision.amount
            assert by_id[decision.hold_id].card_id == card_id
    assert all(r.hold_id is None for r in results if not r.approved)


@pytest.mark.parametrize("companion", [False, True], ids=["budget", "companion_pot"])
def test_racing_authorisations_never_overdraw(
    racing: Engine, committed: sessionmaker[Session], companion: bool
) -> None:
    funds, price = 10_000, 300  # room for 33 payments of 300p, with 100p left over
    clock = FixedClock()
    with committed() as session, session.begin():
        h = factories.household(
            session,
            clock,
            loaded=funds + (5_000 if companion else 0),
            pot=funds if companion else 0,
        )
        card_id = h.companion_card.id if companion else h.card.id
        account_id = h.pot.account_id if companion else h.budget.id
        budget_id = h.budget.id
    with committed() as session:
        setup_transfers = count_transfers(session)
        budget_before = CardPayments(session, clock).balances(budget_id)

    outcome = race(
        racing,
        committed,
        lambda i, s: CardPayments(s, clock).authorise(
            card_id, price, source="race", key=f"pay-{i}", merchant_name="Shop"
        ),
    )

    assert not outcome.errors, outcome.errors
    results: list[AuthorisationResult] = list(outcome.results.values())
    approved = [r for r in results if r.approved]
    # The decisions are serialised, so every payment that fits is approved, and no more.
    assert len(approved) == funds // price
    assert sum(price for _ in approved) <= funds
    with committed() as session:
        ledger = CardPayments(session, clock)
        balances = ledger.balances(account_id)
        assert balances.available == funds - len(approved) * price >= 0
        assert balances.pending_debits == len(approved) * price
        assert balances.posted == funds
        if companion:  # the cared-for person's own budget is untouched by the pot's card
            assert ledger.balances(budget_id) == budget_before
        assert_one_hold_per_approval(session, card_id, account_id, results)
        assert count_transfers(session) == setup_transfers + len(approved)
        assert_books_sound(session)


@pytest.mark.parametrize("operation", ["load", "authorise"])
def test_the_same_key_sent_by_many_threads_posts_once(
    racing: Engine, committed: sessionmaker[Session], operation: str
) -> None:
    clock = FixedClock()
    with committed() as session, session.begin():
        _, budget, card = factories.budget_with_card(session, clock, loaded=50_000)
        budget_id, card_id = budget.id, card.id
    with committed() as session:
        setup_transfers = count_transfers(session)

    def send(_i: int, s: Session) -> Any:
        ledger = CardPayments(s, clock)
        if operation == "load":
            return ledger.load(budget_id, 1_000, source="webhook", key="evt_same")
        return ledger.authorise(card_id, 1_000, source="webhook", key="evt_same")

    outcome = race(racing, committed, send)

    assert not outcome.errors, outcome.errors
    first, *others = outcome.results.values()
    assert all(other == first for other in others), "a retry got a different answer"
    with committed() as session:
        assert count_transfers(session) == setup_transfers + 1
        written = session.execute(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.idempotency_source == "webhook", Transfer.idempotency_key == "evt_same")
        ).scalar_one()
        assert written == 1
        balances = CardPayments(session, clock).balances(budget_id)
        if operation == "load":
            assert balances.posted == 51_000 and balances.pending_debits == 0
        else:
            assert balances.posted == 50_000 and balances.pending_debits == 1_000
            decisions = session.execute(
                select(func.count()).select_from(Authorisation)
            ).scalar_one()
            assert decisions == 1
        assert_books_sound(session)


def test_clawbacks_racing_authorisations_never_overdraw(
    racing: Engine, committed: sessionmaker[Session]
) -> None:
    funds, price, recovery, fee = 10_000, 300, 700, 50
    clock = FixedClock()
    with committed() as session, session.begin():
        _, budget, card = factories.budget_with_card(session, clock, loaded=funds)
        budget_id, card_id = budget.id, card.id
    with committed() as session:
        setup_transfers = count_transfers(session)

    def act(i: int, s: Session) -> Any:
        ledger = CardPayments(s, clock)
        if i % 2:
            return ledger.authorise(card_id, price, source="race", key=f"pay-{i}")
        try:
            return ledger.clawback(budget_id, recovery, fee=fee, source="race", key=f"cb-{i}")
        except InsufficientFunds as refused:
            return refused

    outcome = race(racing, committed, act)

    assert not outcome.errors, outcome.errors
    approvals = [r for r in outcome.results.values() if isinstance(r, AuthorisationResult)]
    approved = [r for r in approvals if r.approved]
    clawbacks = [r for r in outcome.results.values() if isinstance(r, list)]
    refused = [r for r in outcome.results.values() if isinstance(r, InsufficientFunds)]
    assert len(approvals) + len(clawbacks) + len(refused) == THREADS
    taken = len(approved) * price + len(clawbacks) * (recovery + fee)
    assert taken <= funds
    # Serialised decisions: whatever was refused or declined last did not fit any more.
    assert funds - taken < recovery + fee or not refused
    assert funds - taken < price or all(r.approved for r in approvals)
    with committed() as session:
        balances = CardPayments(session, clock).balances(budget_id)
        assert balances.available == funds - taken >= 0
        assert balances.pending_debits == len(approved) * price
        codes = session.execute(
            select(Transfer.code).where(Transfer.id > setup_transfers).order_by(Transfer.id)
        ).scalars()
        assert sorted(codes) == sorted(
            [TransferCode.CARD_SPEND] * len(approved)
            + [TransferCode.CLAWBACK, TransferCode.FEE] * len(clawbacks)
        )
        assert_one_hold_per_approval(session, card_id, budget_id, approvals)
        assert_books_sound(session)
